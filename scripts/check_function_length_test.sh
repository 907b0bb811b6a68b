#!/usr/bin/env bash
# scripts/check_function_length.py must be able to fail: on a small tree it
# reports each production function over 100 lines (free, member, inline in a
# class, constructor with an initializer list) at its first line, and none
# of what is not a function body or not production code; an allow-list
# entry with a reason silences one, one without a reason or for a function
# that is no longer long is reported.
set -euo pipefail
check=$(realpath "$1")
root=${TEST_TMPDIR:-$(mktemp -d)}/tree
rm -rf "$root"
mkdir -p "$root/dataplane/testing" "$root/dataplane/bench" "$root/grod" \
  "$root/controlplane" "$root/scripts" "$root/docs"
fail() { echo "FAIL: $*"; exit 1; }

# N statement lines (a body of N lines plus the signature and the brace).
body() { for ((j = 0; j < $1; j++)); do echo "  x += $j;"; done; }

{
  echo "// A file with braces in comments { and strings."
  echo "namespace grod {"
  echo "namespace {"
  echo 'const char* kBrace = "{{{";  // }}}'
  echo "int Short() { return 1; }"
  echo "}  // namespace"
  echo ""
  echo "int Long(int a,"   # line 8: 2 + 98 + 1 = 101 lines
  echo "         int b) {"
  body 98
  echo "}"
  echo ""
  echo "int Exact(int a) {"   # 1 + 98 + 1 = 100 lines: at the limit
  body 98
  echo "}"
  echo "}  // namespace grod"
} >"$root/dataplane/long.cc"

{
  echo "#include <vector>"
  echo "#define WRAP(x) { x }"
  echo "class Engine {"
  echo " public:"
  echo "  Engine() = default;"
  echo "  int Inline() const {"   # line 6
  body 120
  echo "  }"
  echo " private:"
  echo "  int a_{0};"
  echo "};"
  echo "const int kTable[] = {"   # data, not a function: never reported
  for ((j = 0; j < 150; j++)); do echo "  $j,"; done
  echo "};"
  echo "struct Big {"
  for ((j = 0; j < 150; j++)); do echo "  int f$j;"; done
  echo "};"
} >"$root/dataplane/engine.h"

{
  echo "namespace grod {"
  echo "Service::Service(int x)"   # line 2
  echo "    : a_(x), b_{x, 1} {"
  echo "  auto f = [&](int y) {"
  echo "    if (y) {"
  body 110
  echo "    }"
  echo "  };"
  echo "  for (int i = 0; i < 3; ++i) {"
  echo "    f(i);"
  echo "  }"
  echo "}"
  echo "}  // namespace grod"
} >"$root/controlplane/service.cc"

# Not production code: tests, testing/ helpers, benchmarks, other folders.
for f in dataplane/long_test.cc dataplane/testing/helper.cc \
         dataplane/bench/bench.cc docs/example.cc; do
  { echo "void TestBody() {"; body 200; echo "}"; } >"$root/$f"
done

out=$(python3 "$check" "$root") && fail "passed a tree with long functions: $out"
echo "$out"
for want in "dataplane/long.cc:8: Long is 101 lines" \
            "dataplane/engine.h:6: Inline is 122 lines" \
            "controlplane/service.cc:2: Service::Service is " \
            "3 function length problem(s)"; do
  grep -qF "$want" <<<"$out" || fail "did not report: $want"
done
for not in Exact Short kTable Big TestBody f0 ; do
  grep -qw "$not" <<<"$out" && fail "reported $not"
done

# --list shows every function over N lines, longest first, and passes.
list=$(python3 "$check" --list 99 "$root") || fail "--list failed"
echo "$list"
[ "$(head -1 <<<"$list" | awk '{print $1}')" = 122 ] || fail "--list order: $list"
grep -q "Exact" <<<"$list" || fail "--list 99 misses the 100-line Exact"

# Allowed with a reason: silent.  Without a reason, or for a function that
# is not long (or gone): reported.
cat >"$root/scripts/function_length_allowed.txt" <<'EOF'
# path:Name -- why it stays whole
dataplane/long.cc:Long -- one table-driven switch over every case
dataplane/engine.h:Inline
dataplane/long.cc:Exact -- was long once
EOF
out=$(python3 "$check" "$root") && fail "accepted a bad allow-list: $out"
echo "$out"
grep -q "long.cc:8: Long" <<<"$out" && fail "reported an allowed function"
grep -qF "function_length_allowed.txt:3: 'dataplane/engine.h:Inline' has no reason" \
  <<<"$out" || fail "accepted an entry without a reason"
grep -qF "dataplane/long.cc:Exact: " <<<"$out" || fail "kept a stale entry"

# Everything fixed: passes.
cat >"$root/scripts/function_length_allowed.txt" <<'EOF'
dataplane/long.cc:Long -- one table-driven switch over every case
dataplane/engine.h:Inline -- generated
controlplane/service.cc:Service::Service -- fixture
EOF
out=$(python3 "$check" "$root") || fail "rejected an allowed tree: $out"
echo "PASS"
