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
id=$$
nsa=grodA$id nsb=grodB$id
va=ga$id vb=gb$id pa=pa$id pb=pb$id
grod_pid=

cleanup() {
  [ -n "$grod_pid" ] && kill -9 "$grod_pid" 2>/dev/null || true
  ip netns del "$nsa" 2>/dev/null || true
  ip netns del "$nsb" 2>/dev/null || true
  ip link del "$pa" 2>/dev/null || true
  ip link del "$pb" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- grod log:"; cat "$tmp/grod.log" || true; exit 1; }

ip netns add "$nsa"
ip netns add "$nsb"
ip link add "$va" type veth peer name "$pa"
ip link add "$vb" type veth peer name "$pb"
ip link set "$va" netns "$nsa"
ip link set "$vb" netns "$nsb"
ip -n "$nsa" addr add 10.77.0.1/24 dev "$va"
ip -n "$nsb" addr add 10.77.0.2/24 dev "$vb"
for ns_dev in "$nsa:$va" "$nsb:$vb"; do
  ns=${ns_dev%%:*} dev=${ns_dev#*:}
  # No IPv6 autoconfiguration chatter: the counters checked below stay still.
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  ip -n "$ns" link set "$dev" up
  ip -n "$ns" link set lo up
  # Hand grod real MTU-sized frames with complete checksums, as a NIC would.
  ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off >/dev/null
done
for dev in "$pa" "$pb"; do
  ip link set "$dev" up
  ethtool -K "$dev" tso off gso off gro off tx off >/dev/null
done

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
            "--file-prefix=k$id", "--no-telemetry", "--log-level=*:warning",
            $vdevs ]
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
idle_sleep_us: 20
tenants { name: "wire" selectors { port_id: 0 } selectors { port_id: 1 }
          default_mode: GRO_MODE_MERGE
          flush_policy { kind: FLUSH_KIND_ADAPTIVE timeout { nanos: 100000 } } }
route_hints { tenant: "wire" hints { prefix: "10.77.0.0/24" mode: GRO_MODE_MERGE } }
EOC
"$grod" --config="$tmp/grod.textproto" >"$tmp/grod.log" 2>&1 &
grod_pid=$!
for _ in $(seq 100); do
  grep -q "serving gRPC" "$tmp/grod.log" && break
  kill -0 "$grod_pid" 2>/dev/null || fail "grod exited during start-up"
  sleep 0.1
done
grpc_port=$(sed -n 's/.*serving gRPC on [^(]*(bound port \([0-9]*\)).*/\1/p' "$tmp/grod.log")
[ -n "$grpc_port" ] || fail "grod did not come up"
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
ip netns exec "$nsb" /usr/bin/python3 "$traffic" tcp-server 5201 "$tmp/tcp.out" &
srv=$!
sleep 0.5
sent=$(ip netns exec "$nsa" timeout 60 /usr/bin/python3 "$traffic" tcp-client 10.77.0.2 5201 8000000) \
  || fail "TCP client failed"
wait "$srv" || fail "TCP server failed"
got=$(cat "$tmp/tcp.out")
[ "$sent" = "$got" ] || fail "TCP stream differs: sent '$sent', received '$got'"
echo "TCP: 8000000 bytes arrived intact ($got)"

# UDP: 3000 numbered datagrams, every one intact and in order.
ip netns exec "$nsb" /usr/bin/python3 "$traffic" udp-server 5202 3000 "$tmp/udp.out" &
srv=$!
sleep 0.5
ip netns exec "$nsa" /usr/bin/python3 "$traffic" udp-client 10.77.0.2 5202 3000
wait "$srv" || fail "UDP server failed"
report=$(cat "$tmp/udp.out")
echo "UDP: $report"
# Every datagram that arrived is intact and in order. A busy machine may
# drop some in the kernel (socket or af_packet ring overrun, outside grod);
# that grod itself lost nothing is checked from its counters below.
/usr/bin/python3 - "$report" <<'PY' || fail "UDP: $report"
import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["corrupt"] == 0 and r["reordered"] == 0 and r["received"] >= 2700 else 1)
PY

# grod lost nothing and really aggregated: each direction transmitted what
# it received (GSO cut merged packets back to the kernel's MSS), no drops,
# and segments were merged for the tenant.
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
print("segments merged by grod:", merged)
sys.exit(0 if ok and merged > 0 else 1)
PY
}
# A stray packet between the reads of two ports' counters can skew one
# sample; a real loss shows in every sample.
for attempt in 1 2 3 4 5; do
  sleep 0.3
  check_counters && break
  [ "$attempt" -eq 5 ] && fail "grod counters: $stats"
done

kill -TERM "$grod_pid"
wait "$grod_pid" || fail "grod exited non-zero"
grod_pid=
grep -q "stopped cleanly" "$tmp/grod.log" || fail "no clean stop"
echo "PASS"
