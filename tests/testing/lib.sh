# Shared by the shell end-to-end tests (sourced, not run): waiting on a
# condition instead of a fixed sleep, starting grod, and the network
# namespace + veth setup they all use. The caller defines fail() (print,
# exit 1) and, for start_grod, $grod (the binary).

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
