#!/bin/bash
# `systemd-analyze verify` on grod.service. verify exits 0 on many unit
# errors (unknown keys, bad values are "ignored"), so any output about the
# unit counts as a failure. ExecStart is pointed at /bin/true because
# /usr/local/bin/grod does not exist on test machines; nothing else changes.
set -euo pipefail

unit="$1"
tmp="${TEST_TMPDIR:-$(mktemp -d)}/units"
mkdir -p "$tmp/good" "$tmp/broken"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Prints problems and returns 1 if `systemd-analyze verify` has anything to
# say about the unit file $1.
verify() {
  local out
  if ! out=$(cd "$(dirname "$1")" && /usr/bin/systemd-analyze verify "$1" 2>&1); then
    echo "$out"
    return 1
  fi
  if [ -n "$out" ]; then
    echo "$out"
    return 1
  fi
}

grep -qx 'ExecStart=/usr/local/bin/grod --config=/etc/grod/grod.textproto' "$unit" ||
  fail "ExecStart must be /usr/local/bin/grod --config=/etc/grod/grod.textproto"
sed 's#^ExecStart=/usr/local/bin/grod #ExecStart=/bin/true #' "$unit" >"$tmp/good/grod.service"

verify "$tmp/good/grod.service" || fail "systemd-analyze verify reported problems"

# The check itself must be able to fail: a bad value and an unknown key.
sed -e 's/^Restart=on-failure/Restart=sometimes/' "$tmp/good/grod.service" >"$tmp/broken/grod.service"
echo "NoSuchDirective=yes" >>"$tmp/broken/grod.service"
if verify "$tmp/broken/grod.service" >/dev/null; then
  fail "verify accepted a broken unit; the test cannot detect errors"
fi

# The hardening and the systemd integration (sd_notify READY/WATCHDOG, see
# tests/liveness_e2e_test.cc) the deployment relies on.
for line in \
  'Type=notify' \
  'NotifyAccess=main' \
  'WatchdogSec=5s' \
  'User=grod' \
  'Restart=on-failure' \
  'ProtectSystem=strict' \
  'LimitMEMLOCK=infinity' \
  'NoNewPrivileges=yes' \
  'CapabilityBoundingSet=CAP_IPC_LOCK CAP_NET_ADMIN CAP_NET_RAW' \
  'AmbientCapabilities=CAP_IPC_LOCK CAP_NET_ADMIN CAP_NET_RAW' \
  'ReadWritePaths=/var/lib/grod /run/dpdk /run/grod -/dev/hugepages' \
  'RuntimeDirectory=dpdk grod' \
  'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qxF "$line" "$unit" || fail "missing: $line"
done
echo "PASS"
