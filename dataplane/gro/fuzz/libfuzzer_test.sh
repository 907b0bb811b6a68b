#!/usr/bin/env bash
# The libFuzzer target, built as dataplane/gro/fuzz/run_fuzz.sh builds it
# (clang-14, ASan + UBSan), fuzzed for a few seconds from the seed corpus:
# the suite's short run (longer runs by hand: run_fuzz.sh 36000).  Fails if
# the fuzzer does not build or finds a crash.
set -euo pipefail
WORK="$TEST_TMPDIR" exec dataplane/gro/fuzz/run_fuzz.sh "${FUZZ_SECONDS:-10}"
