#!/bin/sh
echo "bazel coverage is not supported offline in grod" >&2
exit 1
