#!/bin/sh
# Runs every section of the forwarding benchmark at toy sizes: it must exit 0
# (the benchmark exits non-zero on a failed call, a lost packet or a leak).
set -eu
exec "$1" --smoke
