#!/bin/bash
# Builds the GRO parser+engine fuzzer with clang++-14 (libFuzzer + ASan +
# UBSan, no Bazel) and runs it for [seconds] (default 60) -- or until
# [runs] inputs (default: no limit), whichever comes first -- over a
# scratch copy of the seed corpus, with inputs of at most [max_len] bytes
# (default 8192: ~100 packets).  Longer run, e.g. overnight:
#   dataplane/gro/fuzz/run_fuzz.sh 36000
# 10^7 inputs (hours: ~900 inputs/s of 8 KiB, ~2500/s of 2 KiB on one core
# of the dev box; WORK=dir keeps the grown corpus between runs):
#   dataplane/gro/fuzz/run_fuzz.sh 100000 10000000 [2048]
# New crashers are left in $WORK (printed); add useful inputs to corpus/.
set -euo pipefail
SECONDS_TO_RUN="${1:-60}"
RUNS="${2:--1}"
MAX_LEN="${3:-8192}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="${WORK:-$(mktemp -d /tmp/gro_fuzz.XXXXXX)}"
# The engine: every source of the library (not its tests).
SRC=()
for f in "$ROOT"/dataplane/gro/*.cc; do
  case "$f" in *_test.cc) continue ;; esac
  SRC+=("$f")
done
echo "building the fuzzer (clang++-14, ${#SRC[@]} engine sources)..."
clang++-14 -std=c++20 -Wno-deprecated-volatile -O1 -g -march=corei7 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -I"$ROOT" $(pkg-config --cflags libdpdk) \
  "${SRC[@]}" "$HERE/fuzz_entry.cc" "$HERE/output_invariants.cc" "$HERE/fuzz_main.cc" \
  $(pkg-config --libs libdpdk) -o "$WORK/gro_fuzz"
mkdir -p "$WORK/corpus"
cp "$HERE"/corpus/* "$WORK/corpus/"
echo "fuzzing for ${SECONDS_TO_RUN}s in $WORK"
# DPDK keeps its memory until exit on purpose: no leak reports for it.
cd "$WORK"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  ./gro_fuzz -max_total_time="$SECONDS_TO_RUN" -runs="$RUNS" -max_len="$MAX_LEN" \
  -rss_limit_mb=4096 corpus
