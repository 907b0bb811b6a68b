#!/usr/bin/env bash
# grod --check_config accepts deploy/grod.textproto and rejects a broken copy.
set -euo pipefail
grod=$1
config=$2
out=$("$grod" --check_config --config="$config")
grep -q 'name: "storage"' <<<"$out" || { echo "tenant missing from: $out"; exit 1; }
broken=$TEST_TMPDIR/broken.textproto
sed 's/rx_descriptors: 2048/rx_descriptors: 8/' "$config" > "$broken"
if err=$("$grod" --check_config --config="$broken" 2>&1); then
  echo "a broken config was accepted"; exit 1
fi
grep -q 'ports\[0\].rx_descriptors' <<<"$err" || { echo "error does not name the field: $err"; exit 1; }
echo "example config ok"
