#!/usr/bin/env bash
# Real kernel TCP and UDP traffic crossing grod: two network namespaces, each
# with one end of a veth pair; grod bridges the other two ends with DPDK's
# af_packet PMD, or with its af_xdp PMD when the 4th argument is "af_xdp"
# (XDP program on the veth, AF_XDP sockets: grod on a kernel netdev without
# vfio). TCP must arrive byte-identical (sha256), UDP complete, in
# order and uncorrupted, and grod must actually have aggregated segments.
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH  # ip, ethtool (Bazel's strict PATH lacks sbin)
grod=$(realpath "$1")
grocli=$(realpath "$2")
traffic=$(realpath "$3")
pmd=${4:-af_packet}
tmp=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/testing/lib.sh"
id=$$
nsa=grodA$id nsb=grodB$id
va=ga$id vb=gb$id pa=pa$id pb=pb$id
grod_pid=

cleanup() {
  reap "$grod_pid"
  netns_remove "$nsa" "$pa"
  netns_remove "$nsb" "$pb"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- grod log:"; cat "$tmp/grod.log" || true; exit 1; }

netns_with_veth "$nsa" "$va" "$pa" 10.77.0.1/24
netns_with_veth "$nsb" "$vb" "$pb" 10.77.0.2/24

case "$pmd" in
  af_packet)
    vdevs="\"--vdev=net_af_packet0,iface=$pa,qpairs=1\",
            \"--vdev=net_af_packet1,iface=$pb,qpairs=1\"" ;;
  af_xdp)
    vdevs="\"--vdev=net_af_xdp0,iface=$pa,start_queue=0,queue_count=1\",
            \"--vdev=net_af_xdp1,iface=$pb,start_queue=0,queue_count=1\"" ;;
  *) fail "unknown PMD '$pmd' (af_packet or af_xdp)" ;;
esac
cat > "$tmp/grod.textproto" <<EOC
eal_args: [ "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
            "--file-prefix=k$id", "--no-telemetry", "--log-level=*:warning", "--log-level=grod*:info",
            $vdevs ]
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
idle_sleep_us: 20
tenants { name: "wire" selectors { port_id: 0 } selectors { port_id: 1 }
          default_mode: GRO_MODE_MERGE
          flush_policy { kind: FLUSH_KIND_ADAPTIVE timeout { nanos: 100000 } } }
route_hints { tenant: "wire" hints { prefix: "10.77.0.0/24" mode: GRO_MODE_MERGE } }
EOC
start_grod "$tmp/grod.textproto" "$tmp/grod.log"
echo "grod up, gRPC port $grpc_port"
if [ "$pmd" = af_xdp ]; then
  # The frames really go through AF_XDP: grod's ports are af_xdp ports and
  # an XDP program (native or generic) sits on each veth end.
  ports=$("$grocli" --server "127.0.0.1:$grpc_port" ports)
  echo "$ports"
  [ "$(grep -c 'net_af_xdp' <<<"$ports")" -ge 2 ] || fail "ports are not af_xdp"
  for dev in "$pa" "$pb"; do
    ip link show "$dev" | grep -q 'xdp' || fail "no XDP program on $dev"
  done
fi

# TCP: 8 MB through grod, both directions carry segments (data and ACKs).
tcp_transfer "$nsa" "$nsb" 10.77.0.2 5201 8000000 TCP

# UDP: 3000 numbered datagrams, every one that arrives intact and in order.
# A busy machine may drop some in the kernel (socket or af_packet ring
# overrun, outside grod); that grod itself lost nothing is checked from its
# counters below.
udp_transfer "$nsa" "$nsb" 10.77.0.2 5202 3000 2700 UDP

# grod lost nothing and really aggregated: each direction transmitted what
# it received, no drops, and the tenant's MERGE traffic went through GRO --
# linked, not merged, as af_packet and AF_XDP have no TSO (the frames leave
# as they came; docs/OPERATIONS.md, "MERGE towards a port without TSO").
check_counters() {
  stats=$("$grocli" --server "127.0.0.1:$grpc_port" -o json stats wire)
  /usr/bin/python3 - "$stats" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
ports = {int(p.get("portId", 0)): p for p in s["ports"]}
n = lambda p, k: int(p.get(k, 0))
ok = True
for rx, tx in ((0, 1), (1, 0)):
    got, sent = n(ports[rx], "rxPackets"), n(ports[tx], "txPackets")
    print("port %d received %d, port %d transmitted %d" % (rx, got, tx, sent))
    ok &= got == sent and got > 0
ok &= all(n(p, "txDropped") == 0 for p in ports.values())
merged = n(s["tenants"][0], "segmentsMerged")
linked = n(s["tenants"][0], "mergeAsListPackets")
print("segments merged by grod: %d, MERGE packets linked for want of TSO: %d"
      % (merged, linked))
sys.exit(0 if ok and merged + linked > 0 else 1)
PY
}
# Until grod has sent what it received: a packet still in flight (or a stray
# one between the reads of two ports' counters) skews one sample; a real
# loss shows in every sample.
wait_for 10 check_counters || fail "grod counters: $stats"

stop_grod "$tmp/grod.log"
echo "PASS"
