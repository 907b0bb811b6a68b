#!/usr/bin/env bash
# scripts/check_test_waits.py must be able to fail: on a small tree with one
# fixed sleep per language it reports each, exits 1; with the sleeps marked
# `sleep-ok:` or moved into the shared helpers it exits 0. (The sleeps are
# spelled in pieces here so this file does not trip the check itself.)
set -euo pipefail
check=$(realpath "$1")
root=${TEST_TMPDIR:-$(mktemp -d)}/tree
s=sle
s=${s}ep
rm -rf "$root"
mkdir -p "$root/dataplane" "$root/tests/testing" "$root/common/testing" "$root/tests/checker"
fail() { echo "FAIL: $*"; exit 1; }

cat >"$root/dataplane/a_test.cc" <<EOC
TEST(A, B) {
  std::this_thread::${s}_for(std::chrono::milliseconds(150));
  absl::${s^}For(absl::Milliseconds(30));
}
EOC
cat >"$root/tests/b_test.sh" <<EOC
start_server &
${s} 0.5
EOC
cat >"$root/tests/checker/c.py" <<EOC
import time
time.${s}(0.3)
EOC
# Not test code: production sources may sleep (an idle worker does).
cat >"$root/dataplane/worker.cc" <<EOC
void Idle() { rte_delay_us_${s}(50); }
EOC

out=$(python3 "$check" "$root") && fail "passed a tree with fixed sleeps: $out"
echo "$out"
for want in "dataplane/a_test.cc:2:" "dataplane/a_test.cc:3:" "tests/b_test.sh:2:" \
            "tests/checker/c.py:2:" "4 fixed"; do
  grep -qF "$want" <<<"$out" || fail "did not report $want"
done
grep -q "worker.cc" <<<"$out" && fail "reported production code"

# Marked with a reason (on the line or in the comment above): allowed.
cat >"$root/dataplane/a_test.cc" <<EOC
TEST(A, B) {
  // sleep-ok: paces the sender; the result is waited for by counters.
  std::this_thread::${s}_for(std::chrono::milliseconds(150));
  absl::${s^}For(absl::Milliseconds(30));  // sleep-ok: time is what is tested
}
EOC
cat >"$root/tests/checker/c.py" <<EOC
import time
time.${s}(0.3)  # sleep-ok: paces the sender
EOC
# The shell test waits through the shared helper instead.
cat >"$root/tests/b_test.sh" <<EOC
start_server &
wait_for 10 listening ns tcp 5201
EOC
printf 'wait_for() { until "\$@"; do %s 0.1; done; }\n' "$s" >"$root/tests/testing/lib.sh"
# A mark without a reason does not count.
cat >"$root/common/testing/d_test.cc" <<EOC
// sleep-ok:
absl::${s^}For(absl::Seconds(1));
EOC
out=$(python3 "$check" "$root") && fail "accepted a mark without a reason"
grep -qF "common/testing/d_test.cc:2:" <<<"$out" || fail "wrong report: $out"
rm "$root/common/testing/d_test.cc"
out=$(python3 "$check" "$root") || fail "rejected allowed sleeps: $out"
echo "$out"
echo "PASS"
