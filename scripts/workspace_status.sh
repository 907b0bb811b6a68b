#!/bin/sh
# Bazel's --workspace_status_command (.bazelrc): the commit grod is built
# from, for grod_build_info{commit} (//grod:build_commit). Prints nothing
# outside a git checkout (a source tarball): the commit is then "unknown".
commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || exit 0
echo "STABLE_GROD_COMMIT $commit"
