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
# --check_config runs start-up's own checks (Bootstrap), not only field
# syntax: a tenant without selectors used to pass --check_config and then
# stop grod at start-up (the shipped Kubernetes ConfigMap did).
noselector=$TEST_TMPDIR/noselector.textproto
printf 'tenants { name: "default" }\nunmatched_tenant: "default"\n' > "$noselector"
if err=$("$grod" --check_config --config="$noselector" 2>&1); then
  echo "a tenant without selectors passed --check_config"; exit 1
fi
grep -q 'tenants\[0\].selectors: at least one selector is required' <<<"$err" ||
  { echo "error does not name the field: $err"; exit 1; }
limits=$TEST_TMPDIR/limits.textproto
printf 'limits { max_rpc_threads: 8 max_watch_streams: 7 }\n' > "$limits"
if err=$("$grod" --check_config --config="$limits" 2>&1); then
  echo "bad limits passed --check_config"; exit 1
fi
grep -q 'limits.max_watch_streams: 7' <<<"$err" || { echo "limits error: $err"; exit 1; }
echo "example config ok"
