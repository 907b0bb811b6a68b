#!/usr/bin/env bash
# scripts/check_logging.py must be able to fail: on a small tree with a
# direct write to stderr/stdout in each kind of production code it reports
# each and exits 1; test code, the facility itself and lines marked
# `log-ok: <why>` pass. (The writes are spelled in pieces here so this file
# does not look like one.)
set -euo pipefail
check=$(realpath "$1")
root=${TEST_TMPDIR:-$(mktemp -d)}/tree
e=std
fp=fprin
fp=${fp}tf
rm -rf "$root"
mkdir -p "$root/dataplane/runtime" "$root/controlplane" "$root/metrics" "$root/grod" \
  "$root/common/testing" "$root/dataplane/bench"
fail() { echo "FAIL: $*"; exit 1; }

cat >"$root/dataplane/runtime/worker.cc" <<EOC
void Stalled() { std::${fp}(${e}err, "stalled\n"); }
EOC
cat >"$root/controlplane/controller.cc" <<EOC
void Note() {
  ${e}::cerr << "note" << std::endl;
}
EOC
cat >"$root/metrics/exporter.h" <<EOC
inline void Bound(int p) { ${fp}(${e}out, "%d\n", p); }
EOC
cat >"$root/grod/main.cc" <<EOC
int Fail() { std::${fp:1}("bad\n"); return 1; }
EOC
# Test code and benchmarks may print; so may the facility itself.
cat >"$root/controlplane/controller_test.cc" <<EOC
TEST(A, B) { std::${fp}(${e}err, "x"); }
EOC
cat >"$root/common/testing/fake.cc" <<EOC
void F() { ${e}::cerr << "x"; }
EOC
cat >"$root/dataplane/bench/bench.cc" <<EOC
void Row() { std::${fp:1}("row\n"); }
EOC
mkdir -p "$root/common"
cat >"$root/common/log.cc" <<EOC
void StderrWrite() { std::${fp}(${e}err, "grod: x\n"); }
EOC
# Not a write to stderr/stdout: formatting into a buffer, a file.
cat >"$root/dataplane/runtime/mac.cc" <<EOC
void Mac(char* b) { snprintf(b, 18, "%02X", 1); std::${fp}(file, "x"); }
EOC

out=$(python3 "$check" "$root") && fail "passed a tree with direct writes: $out"
echo "$out"
for want in "dataplane/runtime/worker.cc:1:" "controlplane/controller.cc:2:" \
            "metrics/exporter.h:1:" "grod/main.cc:1:" "4 direct"; do
  grep -qF "$want" <<<"$out" || fail "did not report $want"
done
for not in controller_test.cc common/testing bench.cc common/log.cc mac.cc; do
  grep -qF "$not" <<<"$out" && fail "reported $not"
done

# Marked with a reason (on the line or in the comment above): allowed.
cat >"$root/grod/main.cc" <<EOC
// log-ok: --check_config prints the config as its output.
int Fail() { std::${fp:1}("bad\n"); return 1; }
EOC
cat >"$root/metrics/exporter.h" <<EOC
inline void Bound(int p) { ${fp}(${e}out, "%d\n", p); }  // log-ok: the port for a script
EOC
# A mark without a reason does not count.
cat >"$root/controlplane/controller.cc" <<EOC
void Note() {
  // log-ok:
  ${e}::cerr << "note" << std::endl;
}
EOC
out=$(python3 "$check" "$root") && fail "accepted a mark without a reason"
grep -qF "controlplane/controller.cc:3:" <<<"$out" || fail "wrong report: $out"
grep -qF "2 direct" <<<"$out" || fail "marked lines reported: $out"
grep -qE "grod/main.cc|metrics/exporter.h" <<<"$out" && fail "marked lines reported: $out"
rm "$root/controlplane/controller.cc" "$root/dataplane/runtime/worker.cc"
out=$(python3 "$check" "$root") || fail "rejected allowed output: $out"
echo "$out"
echo "PASS"
