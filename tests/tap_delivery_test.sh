#!/usr/bin/env bash
# Real kernel traffic delivered through grod's tap port (ports[].tap): a
# sender namespace reaches grod over a veth (net_af_packet), grod hands
# what it received to a tap it created, and the test moves that tap into a
# receiver namespace (as for a container). For MERGE, LIST and BYPASS:
#  - TCP sender -> receiver arrives byte-identical (sha256), UDP datagrams
#    complete, intact and in order;
#  - TCP receiver -> sender (the container's replies: GSO packets its
#    kernel writes into the tap, read by grod and cut for the veth) arrives
#    byte-identical too;
#  - the tap's own counters in the receiver namespace: MERGE packets are
#    large (far fewer packets than bytes / MTU), LIST and BYPASS packets are
#    at most MTU-sized frames;
#  - grod dropped nothing, and stops cleanly.
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH  # ip, ethtool (Bazel's strict PATH lacks sbin)
grod=$(realpath "$1")
grocli=$(realpath "$2")
traffic=$(realpath "$3")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/testing/lib.sh"
id=$$
nss=gtapS$id nsr=gtapR$id
vs=gtS$id vp=gtP$id tap=gtapT$id
grod_pid=

cleanup() {
  reap "$grod_pid"
  netns_remove "$nss" "$vp"
  ip netns del "$nsr" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- grod log:"; cat "$tmp/grod.log" || true; exit 1; }

netns_with_veth "$nss" "$vs" "$vp" 10.78.0.1/24
ip netns add "$nsr"
ip -n "$nsr" link set lo up

start_tap_grod() {  # $1: GRO mode of the tenant
  cat > "$tmp/grod.textproto" <<EOC
eal_args: [ "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
            "--file-prefix=t$id", "--no-telemetry", "--log-level=*:warning", "--log-level=grod*:info",
            "--vdev=net_af_packet0,iface=$vp,qpairs=1" ]
ports { device: "net_af_packet0" peer: "rcv" }
ports { device: "rcv" peer: "net_af_packet0" tap { interface: "$tap" } }
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
idle_sleep_us: 20
tenants { name: "wire" selectors { port_id: 0 }
          default_mode: GRO_MODE_$1
          flush_policy { kind: FLUSH_KIND_ADAPTIVE timeout { nanos: 100000 } } }
EOC
  rm -f "$tmp/grod.log"  # not the previous run's: the child truncates it late
  start_grod "$tmp/grod.textproto" "$tmp/grod.log"
  # The container side: grod's tap moved into the receiver's namespace.
  ip link show "$tap" >/dev/null || fail "grod did not create tap $tap"
  ip link set "$tap" netns "$nsr"
  ip netns exec "$nsr" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
  ip -n "$nsr" addr add 10.78.0.2/24 dev "$tap"
  ip -n "$nsr" link set "$tap" up
  # Each grod start makes a new tap (a new MAC): forget the old one.
  ip -n "$nss" neigh flush all
}

stop_tap_grod() {
  stop_grod "$tmp/grod.log"
  ! ip -n "$nsr" link show "$tap" >/dev/null 2>&1 || fail "tap outlived grod"
}

tap_stat() { ip netns exec "$nsr" cat "/sys/class/net/$tap/statistics/$1"; }

for mode in MERGE LIST BYPASS; do
  echo "=== $mode"
  start_tap_grod "$mode"
  port_info=$("$grocli" --server "127.0.0.1:$grpc_port" ports)
  echo "$port_info"
  grep -q "vnet-tap.*kernel:tso4,tso6" <<<"$port_info" || fail "ports: tap kind/consumer missing"

  # Drops before this point are not the transfers' (e.g. a retransmission of
  # the previous run's connection reaching grod while its new tap was still
  # down: counted as link_down, correctly): judge only what the transfers add.
  stats0=$("$grocli" --server "127.0.0.1:$grpc_port" -o json stats wire)

  # Sender -> receiver: what grod merged (or not) enters the receiver.
  p0=$(tap_stat rx_packets) b0=$(tap_stat rx_bytes)
  tcp_transfer "$nss" "$nsr" 10.78.0.2 5301 8000000 "$mode TCP to the tap"
  p1=$(tap_stat rx_packets) b1=$(tap_stat rx_bytes)
  pkts=$((p1 - p0)) bytes=$((b1 - b0))
  avg=$((bytes / pkts))
  echo "$mode: the tap received $pkts packets, $bytes bytes ($avg bytes per packet)"
  case "$mode" in
    # Merged: on average several MSS-sized segments per packet the
    # receiver's stack takes (bytes / MTU would be ~5400 packets).
    MERGE) [ "$avg" -ge 4500 ] || fail "MERGE: $avg bytes per packet, not merged" ;;
    *) [ "$avg" -le 1514 ] || fail "$mode: $avg bytes per packet, above the MTU" ;;
  esac

  udp_transfer "$nss" "$nsr" 10.78.0.2 5302 3000 2700 "$mode UDP"

  # Receiver -> sender: the container's kernel writes GSO packets into the
  # tap; grod reads them and cuts them for the veth.
  t0=$(tap_stat tx_packets) tb0=$(tap_stat tx_bytes)
  tcp_transfer "$nsr" "$nss" 10.78.0.1 5301 4000000 "$mode TCP from the tap"
  t1=$(tap_stat tx_packets) tb1=$(tap_stat tx_bytes)
  echo "$mode: the tap sent grod $((t1 - t0)) packets, $((tb1 - tb0)) bytes"

  stats=$("$grocli" --server "127.0.0.1:$grpc_port" -o json stats wire)
  /usr/bin/python3 - "$stats" "$mode" "$stats0" <<'PY' || fail "$mode grod counters: $stats (before the transfers: $stats0)"
import json, sys
s, mode, s0 = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
n = lambda d, k: int(d.get(k, 0))
before = {p.get("name"): p for p in s0["ports"]}
ok = True
for p in s["ports"]:
    b = before.get(p.get("name"), {})
    dropped = n(p, "txDropped") - n(b, "txDropped")
    rx_errors = n(p, "rxErrors") - n(b, "rxErrors")
    print("port %s: rx %d tx %d dropped %d (%d during the transfers) rx_errors %d (%d)" % (
        p.get("name"), n(p, "rxPackets"), n(p, "txPackets"), n(p, "txDropped"),
        dropped, n(p, "rxErrors"), rx_errors))
    ok &= dropped == 0 and rx_errors == 0
t = s["tenants"][0]
print("tenant: merged outputs %d, segments merged %d, bypass %d" % (
    n(t, "mergedPacketsOut"), n(t, "segmentsMerged"), n(t, "bypassPackets")))
if mode == "MERGE":
    ok &= n(t, "segmentsMerged") > 0
else:
    ok &= n(t, "segmentsMerged") == 0
sys.exit(0 if ok else 1)
PY
  stop_tap_grod
done
echo "PASS"
