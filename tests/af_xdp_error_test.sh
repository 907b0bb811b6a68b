#!/usr/bin/env bash
# When AF_XDP cannot run, grod must say so at start-up, name the likely
# causes and the net_af_packet fallback, and exit non-zero. The failure is
# provoked for real: grod runs on a veth with the capabilities AF_XDP needs
# (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN) dropped, so the kernel refuses the
# UMEM / XDP socket.
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH  # ip, capsh (Bazel's strict PATH lacks sbin)
grod=$(realpath "$1")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/testing/lib.sh"
id=$$
va=xe$id vb=xf$id

cleanup() {
  [ -n "$grod_pid" ] && kill -9 "$grod_pid" 2>/dev/null || true
  ip link del "$va" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- grod log:"; cat "$tmp/grod.log" || true; exit 1; }
grod_pid=

ip link add "$va" type veth peer name "$vb"
ip link set "$va" up
ip link set "$vb" up

cat > "$tmp/grod.textproto" <<EOC
eal_args: [ "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
            "--file-prefix=xe$id", "--no-telemetry", "--log-level=*:warning", "--log-level=grod*:info",
            "--vdev=net_af_xdp0,iface=$va,start_queue=0,queue_count=1",
            "--vdev=net_af_xdp1,iface=$vb,start_queue=0,queue_count=1" ]
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
tenants { name: "wire" selectors { port_id: 0 } selectors { port_id: 1 }
          default_mode: GRO_MODE_MERGE }
EOC

# Sanity: with every capability the same config starts (so the failure
# below comes from the dropped capabilities, not from the config).
start_grod "$tmp/grod.textproto" "$tmp/grod.log"
kill -TERM "$grod_pid"
wait "$grod_pid" || fail "grod exited non-zero after SIGTERM"
grod_pid=

rc=0
timeout 60 capsh --drop=cap_net_admin,cap_bpf,cap_sys_admin,cap_perfmon -- \
  -c "exec '$grod' --config='$tmp/grod.textproto'" >"$tmp/grod.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "grod started without the capabilities AF_XDP needs"
[ "$rc" -ne 124 ] || fail "grod hung instead of failing"
grep -q "AF_XDP socket could not be created" "$tmp/grod.log" || fail "no AF_XDP cause"
grep -q "CAP_NET_ADMIN" "$tmp/grod.log" || fail "capabilities not named"
grep -q "net_af_packet0,iface=<netdev>" "$tmp/grod.log" || fail "fallback not named"
grep -i "error\|fail" "$tmp/grod.log" | tail -3
echo "PASS: grod refused to start (exit $rc) and named the cause and the fallback"
