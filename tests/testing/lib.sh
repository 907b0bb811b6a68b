# Shared by the shell end-to-end tests (sourced, not run): waiting on a
# condition instead of a fixed sleep, starting, reading and stopping grod,
# the network namespace + veth setup they all use, kernel TCP/UDP transfers
# between namespaces, and hugepages reserved for a test and given back. The
# caller defines fail() (print, exit 1) and, for start_grod, $grod (the
# binary); for tcp_transfer / udp_transfer, $traffic (kernel_traffic.py) and
# $tmp.

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds
# (returns 0) or SECONDS have passed (returns 1). The one place the shell
# tests sleep (scripts/check_test_waits.py).
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# start_grod CONFIG LOG: starts $grod in the background and returns once it
# serves; sets grod_pid, grpc_port and metrics_port. fail()s if grod exits
# or does not come up within 30 s.
start_grod() {
  local log=$2
  "$grod" --config="$1" >"$log" 2>&1 &
  grod_pid=$!
  _grod_serving() {
    grep -q "serving gRPC" "$log" && return 0
    kill -0 "$grod_pid" 2>/dev/null || fail "grod exited during start-up"
    return 1
  }
  wait_for 30 _grod_serving || fail "grod did not come up within 30 s"
  grpc_port=$(sed -n 's/.*serving gRPC on [^(]*(bound port \([0-9]*\)).*/\1/p' "$log")
  metrics_port=$(sed -n 's/.*metrics on [^(]*(bound port \([0-9]*\)).*/\1/p' "$log")
  [ -n "$grpc_port" ] && [ -n "$metrics_port" ] || fail "no bound ports in grod's log"
}

# stop_grod LOG: SIGTERM to grod; it must exit 0 and log a clean stop.
stop_grod() {
  kill -TERM "$grod_pid"
  wait "$grod_pid" || fail "grod exited non-zero"
  grod_pid=
  grep -q "stopped cleanly" "$1" || fail "no clean stop"
}

# reap PID: kills PID (SIGKILL) and waits for it, quietly; for traps. An
# empty PID is nothing to do.
reap() {
  [ -n "$1" ] || return 0
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# metric 'family{labels}': its value on grod's /metrics ($metrics_port).
metric() {
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

# in_use POOL: mbufs taken from one of grod's pools (rte_mempool_in_use_count).
in_use() { metric "grod_mempool_in_use_mbufs{pool=\"$1\"}"; }

# netns_with_veth NS DEV PEER ADDR/LEN: network namespace NS holding veth
# end DEV (address ADDR, up, no IPv6 autoconfiguration chatter to move
# counters) and its peer PEER in this namespace, up. Offloads are off on both
# ends, so grod gets MTU-sized frames with complete checksums, as from a NIC.
netns_with_veth() {
  local ns=$1 dev=$2 peer=$3 addr=$4
  ip netns add "$ns"
  ip link add "$dev" type veth peer name "$peer"
  ip link set "$dev" netns "$ns"
  ip -n "$ns" addr add "$addr" dev "$dev"
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  ip -n "$ns" link set "$dev" up
  ip -n "$ns" link set lo up
  ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off tx off >/dev/null
  ip link set "$peer" up
  ethtool -K "$peer" tso off gso off gro off tx off >/dev/null
}

# netns_remove NS PEER: undoes netns_with_veth (quietly, for traps).
netns_remove() {
  ip netns del "$1" 2>/dev/null || true
  ip link del "$2" 2>/dev/null || true
}

# listening NS tcp|udp PORT: whether a socket in NS is bound to PORT.
listening() {
  local flags=-Hltn
  [ "$2" = udp ] && flags=-Hlun
  ip netns exec "$1" ss "$flags" "sport = :$3" | grep -q .
}

# tcp_transfer FROM_NS TO_NS TO_ADDR PORT BYTES LABEL: BYTES over a kernel
# TCP connection from FROM_NS to a server in TO_NS; the stream must arrive
# byte-identical (sha256). fail()s naming LABEL otherwise.
tcp_transfer() {
  local from=$1 to=$2 addr=$3 port=$4 bytes=$5 label=$6 srv sent got
  ip netns exec "$to" /usr/bin/python3 "$traffic" tcp-server "$port" "$tmp/tcp.out" &
  srv=$!
  wait_for 10 listening "$to" tcp "$port" || fail "$label: TCP server did not listen"
  sent=$(ip netns exec "$from" timeout 60 /usr/bin/python3 "$traffic" tcp-client "$addr" "$port" "$bytes") \
    || fail "$label: TCP client failed"
  wait "$srv" || fail "$label: TCP server failed"
  got=$(cat "$tmp/tcp.out")
  [ "$sent" = "$got" ] || fail "$label: TCP stream differs: sent '$sent', received '$got'"
  echo "$label: $bytes bytes arrived intact ($got)"
}

# udp_transfer FROM_NS TO_NS TO_ADDR PORT COUNT MIN LABEL: COUNT numbered
# datagrams from FROM_NS to a server in TO_NS; every one that arrives must
# be intact and in order, and at least MIN must arrive (a busy machine may
# drop some in the kernel, outside grod: the tests check grod's own
# counters for that). fail()s naming LABEL otherwise.
udp_transfer() {
  local from=$1 to=$2 addr=$3 port=$4 count=$5 min=$6 label=$7 srv report
  ip netns exec "$to" /usr/bin/python3 "$traffic" udp-server "$port" "$count" "$tmp/udp.out" &
  srv=$!
  wait_for 10 listening "$to" udp "$port" || fail "$label: UDP server did not bind"
  ip netns exec "$from" /usr/bin/python3 "$traffic" udp-client "$addr" "$port" "$count"
  wait "$srv" || fail "$label: UDP server failed"
  report=$(cat "$tmp/udp.out")
  echo "$label: $report"
  /usr/bin/python3 - "$report" "$min" <<'PY' || fail "$label: $report"
import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["corrupt"] == 0 and r["reordered"] == 0 and r["received"] >= int(sys.argv[2]) else 1)
PY
}

# reserve_hugepages PAGES MIN_FREE: adds PAGES 2 MiB hugepages (mounting
# hugetlbfs on /dev/hugepages if nothing is) and fail()s unless MIN_FREE
# are then free. Holds /tmp/grod-hugepages.lock (fd 9) until the test
# exits, so one test's release cannot pull pages from under another. Sets
# orig_pages and mounted_here for release_hugepages.
reserve_hugepages() {
  local lock=/tmp/grod-hugepages.lock free
  exec 9>"$lock"
  echo "waiting for $lock"
  flock 9
  orig_pages=$(cat /proc/sys/vm/nr_hugepages)
  if ! mountpoint -q /dev/hugepages; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages
    mounted_here=1
  fi
  echo $((orig_pages + $1)) >/proc/sys/vm/nr_hugepages
  free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
  [ "$free" -ge "$2" ] || fail "only $free free 2 MiB hugepages after reserving $1"
}

# release_hugepages: gives back what reserve_hugepages took (a no-op before
# it); for traps, once every process using the pages is reaped (their
# files keep the mount busy).
release_hugepages() {
  [ -n "${orig_pages:-}" ] || return 0
  echo "$orig_pages" >/proc/sys/vm/nr_hugepages
  if [ -n "${mounted_here:-}" ]; then
    wait_for 5 umount /dev/hugepages 2>/dev/null ||
      echo "WARNING: /dev/hugepages (mounted by this test) is still mounted"
  fi
  true
}
