#!/usr/bin/env bash
# Installs what is missing, checks that test code has no fixed sleeps
# (scripts/check_test_waits.py), production code no stray prints
# (scripts/check_logging.py) and production functions at most 100 lines
# (scripts/check_function_length.py), then runs the whole test suite twice:
# once as built for production, once under AddressSanitizer +
# UndefinedBehaviorSanitizer.
#   scripts/test.sh              everything
#   scripts/test.sh //grod/...   only some targets (still both builds)
#   GROD_SANITIZE=0 scripts/test.sh   skip the sanitizer pass
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(//...)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

passes=("default:")
[ "${GROD_SANITIZE:-1}" != "0" ] && passes+=("asan:--config=asan")

status=0
# Test code waits on conditions, never for a fixed time (flaky when loaded).
echo "test: scripts/check_test_waits.py"
python3 scripts/check_test_waits.py || status=1
# Production code logs through GROD_LOG / GROD_DP_LOG, never fprintf(stderr).
echo "test: scripts/check_logging.py"
python3 scripts/check_logging.py || status=1
# Production functions stay short (scripts/function_length_allowed.txt).
echo "test: scripts/check_function_length.py"
python3 scripts/check_function_length.py || status=1
for pass in "${passes[@]}"; do
  name=${pass%%:*}
  flags=${pass#*:}
  echo "test: [$name] bazel test $flags ${targets[*]}"
  # shellcheck disable=SC2086
  bazel test $flags "${targets[@]}" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -ne 0 ] && status=$rc
done

passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY)' "$log")
echo
echo "test summary: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] || status=1
exit $status
