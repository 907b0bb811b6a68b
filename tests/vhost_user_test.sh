#!/usr/bin/env bash
# A guest attaches to grod over vhost-user: grod is the vhost-user backend
# (net_vhost, server mode), the "guest" is dpdk-testpmd with a virtio-user
# frontend on grod's socket. Checks, with real negotiation and real kernel
# traffic:
#  - grocli ports shows the port as vhost-user, "detached" before a guest;
#  - what the guest negotiated: a guest without receive offloads has no
#    TSO, a guest with LRO has tso4/tso6, both mergeable RX buffers;
#  - datagrams from a kernel socket in a netns cross grod into the guest,
#    are echoed (testpmd 5tswap) and cross grod back intact and in order;
#  - the guest leaving while traffic flows and a new one attaching: grod
#    counts what it could not deliver, keeps running, forwards again,
#    every packet it received is transmitted or counted as dropped, and its
#    mbuf pools are back to their idle level (no leak).
# Needs root, 2 MiB hugepages (reserved here under a lock shared with other
# tests, and given back) and dpdk-testpmd (Debian package dpdk).
set -euo pipefail
export PATH=/usr/sbin:/sbin:$PATH
grod=$(realpath "$1")
grocli=$(realpath "$2")
tmp=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/testing/lib.sh"
id=$$
ns=gvh$id v=vv$id p=vp$id
sock=/tmp/grod-vh$id.sock  # unix socket paths are short; TEST_TMPDIR is not
grod_pid= guest_pid= grpc_port=

stop_guest() {
  reap "$guest_pid"
  guest_pid=
  exec 8>&- 2>/dev/null || true
}
cleanup() {
  stop_guest
  reap "$grod_pid"  # before the release: its hugepage files keep the mount busy
  netns_remove "$ns" "$p"
  rm -f "$sock" /dev/hugepages/vhg"$id"* /dev/hugepages/vhf"$id"*
  release_hugepages
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -n "${grpc_port:-}" ] && "$grocli" --server "127.0.0.1:$grpc_port" stats vm || true
  if [ -n "${guest_pid:-}" ]; then
    echo "show port stats 0" >&8
    echo "show port xstats 0" >&8
    # sleep-ok: failure report only: gives testpmd a moment to print the
    # stats asked for above into its log (it has no way to say it has).
    sleep 1
  fi
  echo "--- grod log:"; cat "$tmp/grod.log" 2>/dev/null || true
  echo "--- guest log:"; tail -80 "$tmp/guest.log" 2>/dev/null || true
  exit 1
}
command -v dpdk-testpmd >/dev/null || fail "dpdk-testpmd missing: apt-get install dpdk"

reserve_hugepages 256 200

netns_with_veth "$ns" "$v" "$p" 10.88.0.1/24
# The guest's address: its MAC is made up (testpmd 5tswap answers anything).
ip -n "$ns" neigh add 10.88.0.2 lladdr 02:00:00:00:88:02 dev "$v"

cat >"$tmp/grod.textproto" <<EOC
eal_args: [ "-l", "0-1", "-m", "160", "--no-pci", "--file-prefix=vhg$id",
            "--huge-dir=/dev/hugepages", "--no-telemetry",
            "--log-level=*:warning", "--log-level=grod*:info",
            "--vdev=net_vhost0,iface=$sock,queues=1,tso=1",
            "--vdev=net_af_packet0,iface=$p,qpairs=1" ]
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
idle_sleep_us: 20
mbufs: 8191
tenants { name: "vm" selectors { port_id: 0 } selectors { port_id: 1 }
          default_mode: GRO_MODE_MERGE
          flush_policy { kind: FLUSH_KIND_ADAPTIVE timeout { nanos: 100000 } } }
EOC
start_grod "$tmp/grod.textproto" "$tmp/grod.log"
cli() { "$grocli" --server "127.0.0.1:$grpc_port" "$@"; }
pkts_base=$(in_use grod_pkts)
[ -n "$pkts_base" ] || fail "no grod_mempool_in_use_mbufs on /metrics"
echo "mbufs in use before any guest: $pkts_base"

# The vhost-user port's CONSUMER column (last field of its row).
consumer() { cli ports | awk '$3 == "vhost-user" {print $NF}'; }
[ "$(consumer)" = detached ] || fail "before any guest: '$(cli ports)'"
echo "vhost-user port, no guest yet: detached"

start_guest() {  # extra testpmd arguments
  rm -f "$tmp/guest.in"
  mkfifo "$tmp/guest.in"
  dpdk-testpmd -l 0-1 -m 96 --no-pci --file-prefix=vhf$id --no-telemetry \
    --single-file-segments --huge-dir=/dev/hugepages \
    --vdev="net_virtio_user0,path=$sock,queues=1" -- \
    -i --total-num-mbufs=4096 --port-topology=loop --forward-mode=5tswap \
    "$@" <"$tmp/guest.in" >"$tmp/guest.log" 2>&1 &
  guest_pid=$!
  exec 8>"$tmp/guest.in"
  echo "start" >&8
}
wait_consumer() {  # pattern the CONSUMER column must match
  _consumer_matches() {
    c=$(consumer)
    [[ "$c" =~ $1 ]] && return 0
    kill -0 "$guest_pid" 2>/dev/null || fail "guest exited"
    return 1
  }
  wait_for 10 _consumer_matches "$1" ||
    fail "consumer column '$c' never matched '$1': $(cli ports)"
}

# Guest 1: no receive offloads asked for -> no TSO/csum negotiated.
start_guest
wait_consumer '^guest:'
c=$(consumer)
echo "guest without offloads negotiated: $c"
[[ "$c" == *mrg-rxbuf* ]] || fail "mergeable RX buffers not negotiated: $c"
[[ "$c" != *tso4* && "$c" != *csum* ]] || fail "offloads the guest did not ask for: $c"

echo_client() {  # count -> JSON report on stdout
  ip netns exec "$ns" /usr/bin/python3 - "$1" <<'PY'
import json, socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("10.88.0.1", 7001))
s.settimeout(0.0)
def payload(i):
    return i.to_bytes(4, "big") + bytes((i * 13 + k) & 0xFF for k in range(1100))
got, corrupt, reordered, last = 0, 0, 0, -1
def drain():
    global got, corrupt, reordered, last
    while True:
        try:
            b, src = s.recvfrom(65535)
        except BlockingIOError:
            return
        i = int.from_bytes(b[:4], "big")
        if b != payload(i) or src != ("10.88.0.2", 7000):
            corrupt += 1
        if i <= last:
            reordered += 1
        last = max(last, i)
        got += 1
for i in range(n):
    s.sendto(payload(i), ("10.88.0.2", 7000))
    if i % 16 == 15:
        time.sleep(0.002)  # sleep-ok: paces the sender (no socket overrun)
        drain()
deadline = time.time() + 3
while time.time() < deadline and got < n:
    time.sleep(0.05)  # sleep-ok: polls until every echo is back, or 3 s
    drain()
print(json.dumps({"sent": n, "echoed": got, "corrupt": corrupt, "reordered": reordered}))
PY
}
judge() {  # report min_echoed
  /usr/bin/python3 - "$1" "$2" <<'PY' || fail "echo: $1"
import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["corrupt"] == 0 and r["reordered"] == 0 and r["echoed"] >= int(sys.argv[2]) else 1)
PY
}
r=$(echo_client 2000)
echo "through guest 1: $r"
judge "$r" 1800

# Guest 1 leaves while traffic flows (once grod has taken a few hundred of
# the client's datagrams); grod keeps running.
rx_kernel() { metric 'grod_port_receive_packets_total{port="net_af_packet0"}'; }
rx_before=$(rx_kernel)
echo_client 3000 >"$tmp/during.json" &
client=$!
mid_stream() { awk -v a="$(rx_kernel)" -v b="$rx_before" 'BEGIN { exit !(a >= b + 300) }'; }
wait_for 10 mid_stream || fail "the client's datagrams did not reach grod"
stop_guest
wait "$client" || true
echo "guest 1 killed mid-stream: $(cat "$tmp/during.json")"
kill -0 "$grod_pid" 2>/dev/null || fail "grod died when the guest left"
wait_consumer '^detached$'

# Guest 2: LRO -> GUEST_TSO4/6 negotiated. (Not RX checksum offload: with
# GUEST_CSUM the guest gets partial checksums, which testpmd's 5tswap would
# echo unfinished -- a real guest completes them.)
start_guest --rx-offloads=0x10  # TCP_LRO
wait_consumer '^guest:.*tso4'
c=$(consumer)
echo "guest with LRO negotiated: $c"
cli ports
[[ "$c" == *tso4* && "$c" == *tso6* && "$c" == *mrg-rxbuf* && "$c" != *csum* ]] \
  || fail "guest 2 negotiated: $c"
r=$(echo_client 2000)
echo "through guest 2: $r"
judge "$r" 1800

# Every packet grod received was transmitted or counted as dropped (the
# ones for the departed guest): nothing vanished. (Waits for the last ones
# in flight to leave.)
balanced() {
  stats=$(cli -o json stats vm)
  /usr/bin/python3 - "$stats" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
ports = {int(p.get("portId", 0)): p for p in s["ports"]}
n = lambda p, k: int(p.get(k, 0))
ok = True
for rx, tx in ((0, 1), (1, 0)):
    got, sent, dropped = n(ports[rx], "rxPackets"), n(ports[tx], "txPackets"), n(ports[tx], "txDropped")
    print("port %d received %d; port %d transmitted %d, dropped %d" % (rx, got, tx, sent, dropped))
    ok &= got == sent + dropped and got > 0
sys.exit(0 if ok else 1)
PY
}
wait_for 10 balanced || fail "grod counters: $stats"

# No mbuf lost to the departed guest or anywhere else: once idle (held
# packets flushed), the pools are back where they started.
pools_idle() {
  pkts=$(in_use grod_pkts) ind=$(in_use grod_gso_ind)
  [ "$pkts" = "$pkts_base" ] && [ "$ind" = 0 ]
}
wait_for 10 pools_idle ||
  fail "mbufs in use: grod_pkts $pkts (was $pkts_base), grod_gso_ind $ind"
echo "mbufs in use after the traffic and the guest swap: $pkts (was $pkts_base), indirect $ind"

stop_guest
stop_grod "$tmp/grod.log"
echo "PASS"
