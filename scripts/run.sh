#!/usr/bin/env bash
# Builds grod and grocli, then runs grod in the foreground.
#   scripts/run.sh                         embedded default (virtual devices)
#   scripts/run.sh --config=my.textproto   your own configuration
# Stop it with Ctrl-C (SIGINT) or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "run: building //grod and //cli:grocli (the first build takes a few minutes)..."
bazel build //grod //cli:grocli
echo "run: starting grod; in another shell try: bazel-bin/cli/grocli info"
exec bazel-bin/grod/grod "$@"
