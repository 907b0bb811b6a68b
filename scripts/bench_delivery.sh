#!/usr/bin/env bash
# Kernel delivery benchmark (issue #13): the same kernel receiver behind
# grod, with the tenant in MERGE and in BYPASS, at equal grod cores (main
# lcore + one worker lcore, pinned the same way in both).
#
#   scripts/bench_delivery.sh              3 interleaved runs of 10 s per mode
#   scripts/bench_delivery.sh --quick      1 run of 5 s per mode
#   options: --runs=N --seconds=S --grod=PATH (default: bazel build -c opt
#            //grod) --out=FILE (also write the markdown table there)
#
# Topology (all on this machine, needs root): iperf3 -c in a sender
# namespace -> veth (TSO/GSO/checksum offloads off: MTU-sized frames, as
# from a NIC) -> grod (net_af_packet) -> grod's tap port, moved into a
# receiver namespace -> iperf3 -s there.  One TCP stream.
#
# Measured per run, over the iperf3 interval:
#   receiver packets per GB  the tap's rx_packets / rx_bytes (GB = 1e9 B)
#                            in the receiver namespace: skbs its stack took
#   receiver CPU per GB      CPU seconds of the receiving iperf3 process
#                            (its own getrusage, reported by iperf3 as
#                            remote_total) plus the softirq time of all
#                            CPUs (/proc/stat: the receive stack runs in
#                            softirq), per GB received
#   throughput               iperf3's received bits per second
#   grod CPU                 grod's user + system seconds (the tap writes
#                            are system time) per GB, for reference
# The verdict compares medians: MERGE should take >= 10x fewer packets per
# GB into the receiver and >= 1.5x more throughput per receiver CPU
# (= BYPASS CPU per GB / MERGE CPU per GB).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/sbin:/sbin:$PATH

RUNS=3
SECS=10
GROD=""
OUT=""
for arg in "$@"; do
  case "$arg" in
    --quick) RUNS=1 SECS=5 ;;
    --runs=*) RUNS=${arg#*=} ;;
    --seconds=*) SECS=${arg#*=} ;;
    --grod=*) GROD=${arg#*=} ;;
    --out=*) OUT=${arg#*=} ;;
    *) echo "unknown option $arg (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, a tap)" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "iperf3 missing: run scripts/setup.sh" >&2; exit 1; }
if [ -z "$GROD" ]; then
  echo "building grod (-c opt) ..."
  bazel build -c opt //grod >/dev/null 2>&1 || { echo "bazel build -c opt //grod failed" >&2; exit 1; }
  GROD=$(bazel info -c opt bazel-bin 2>/dev/null)/grod/grod
fi

id=$$
nss=gbdS$id nsr=gbdR$id vs=gbS$id vp=gbP$id tap=gbdT$id
tmp=$(mktemp -d)
grod_pid=
cleanup() {
  [ -n "$grod_pid" ] && kill -9 "$grod_pid" 2>/dev/null || true
  ip netns del "$nss" 2>/dev/null || true
  ip netns del "$nsr" 2>/dev/null || true
  ip link del "$vp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$nss"
ip netns add "$nsr"
ip link add "$vs" type veth peer name "$vp"
ip link set "$vs" netns "$nss"
ip -n "$nss" addr add 10.79.0.1/24 dev "$vs"
ip netns exec "$nss" sysctl -qw "net.ipv6.conf.$vs.disable_ipv6=1"
ip -n "$nss" link set "$vs" up
ip -n "$nss" link set lo up
ip -n "$nsr" link set lo up
ip netns exec "$nss" ethtool -K "$vs" tso off gso off gro off tx off >/dev/null
ip link set "$vp" up
ethtool -K "$vp" tso off gso off gro off tx off >/dev/null

softirq() { awk '/^cpu /{print $8}' /proc/stat; }
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime
hz=$(getconf CLK_TCK)

run_mode() {  # $1 MERGE|BYPASS; prints one result line
  cat > "$tmp/grod.textproto" <<EOC
eal_args: [ "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
            "--file-prefix=b$id", "--no-telemetry", "--log-level=*:warning", "--log-level=grod*:info",
            "--vdev=net_af_packet0,iface=$vp,qpairs=1" ]
ports { device: "net_af_packet0" peer: "rcv" }
ports { device: "rcv" peer: "net_af_packet0" tap { interface: "$tap" } }
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:0"
tenants { name: "wire" selectors { port_id: 0 }
          default_mode: GRO_MODE_$1
          flush_policy { kind: FLUSH_KIND_ADAPTIVE timeout { nanos: 100000 } } }
EOC
  rm -f "$tmp/grod.log"  # not the previous run's: the child truncates it late
  "$GROD" --config="$tmp/grod.textproto" >"$tmp/grod.log" 2>&1 &
  grod_pid=$!
  for _ in $(seq 100); do
    grep -qs "serving gRPC" "$tmp/grod.log" && break
    kill -0 "$grod_pid" 2>/dev/null || { cat "$tmp/grod.log" >&2; exit 1; }
    sleep 0.1
  done
  ip link set "$tap" netns "$nsr"
  ip netns exec "$nsr" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
  ip -n "$nsr" addr add 10.79.0.2/24 dev "$tap"
  ip -n "$nsr" link set "$tap" up
  ip -n "$nss" neigh flush all
  ip netns exec "$nsr" iperf3 -s -1 -p 5401 >/dev/null 2>&1 &
  local srv=$!
  sleep 0.5
  local p0 b0 s0 r0 g0
  p0=$(ip netns exec "$nsr" cat "/sys/class/net/$tap/statistics/rx_packets")
  b0=$(ip netns exec "$nsr" cat "/sys/class/net/$tap/statistics/rx_bytes")
  s0=$(softirq) g0=$(proc_cpu "$grod_pid")
  ip netns exec "$nss" iperf3 -c 10.79.0.2 -p 5401 -t "$SECS" -J >"$tmp/iperf.json" 2>&1 ||
    { echo "iperf3 failed:" >&2; cat "$tmp/iperf.json" >&2; exit 1; }
  local p1 b1 s1 g1
  p1=$(ip netns exec "$nsr" cat "/sys/class/net/$tap/statistics/rx_packets")
  b1=$(ip netns exec "$nsr" cat "/sys/class/net/$tap/statistics/rx_bytes")
  s1=$(softirq) g1=$(proc_cpu "$grod_pid")
  wait "$srv" 2>/dev/null || true
  kill -TERM "$grod_pid"; wait "$grod_pid" || true; grod_pid=
  python3 - "$1" "$tmp/iperf.json" "$((p1 - p0))" "$((b1 - b0))" \
      "$((s1 - s0))" "$((g1 - g0))" "$hz" <<'PY'
import json, sys
mode, path = sys.argv[1], sys.argv[2]
pkts, nbytes, soft, grod, hz = map(int, sys.argv[3:])
end = json.load(open(path))["end"]
bps = end["sum_received"]["bits_per_second"]
# The server's CPU share over the test (its getrusage), as iperf3 reports.
rcv = end["cpu_utilization_percent"]["remote_total"] / 100 * end["sum_received"]["seconds"]
gb = nbytes / 1e9
cpu = soft / hz + rcv
print("%s %.3f %d %.0f %.3f %.3f %.3f %.3f" % (
    mode, gb, pkts, pkts / gb, cpu / gb, bps / 1e9, grod / hz / gb, soft / hz / gb))
PY
}

results=()
for r in $(seq "$RUNS"); do
  for mode in MERGE BYPASS; do
    line=$(run_mode "$mode")
    echo "run $r: $line" >&2
    results+=("$line")
  done
done

printf '%s\n' "${results[@]}" >"$tmp/results"
python3 - "$RUNS" "$SECS" "$OUT" "$tmp/results" <<'PY'
import statistics, sys
runs, secs, out = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
for line in open(sys.argv[4]):
    f = line.split()
    rows.setdefault(f[0], []).append([float(x) for x in f[1:]])
med = {m: [statistics.median(c) for c in zip(*v)] for m, v in rows.items()}
lines = [
    "| mode | GB received | receiver packets per GB | receiver CPU s per GB | "
    "(of which softirq) | throughput Gbit/s | grod CPU s per GB |",
    "|---|---|---|---|---|---|---|"]
for m in ("MERGE", "BYPASS"):
    gb, pk, ppg, cpg, gbps, grod, soft = med[m]
    lines.append("| %s | %.2f | %.0f | %.3f | %.3f | %.2f | %.3f |" % (
        m, gb, ppg, cpg, soft, gbps, grod))
pk_ratio = med["BYPASS"][2] / med["MERGE"][2]
cpu_ratio = med["BYPASS"][3] / med["MERGE"][3]
tp_ratio = med["MERGE"][4] / med["BYPASS"][4]
lines.append("")
lines.append("medians of %s runs of %s s per mode; BYPASS/MERGE receiver packets per GB: "
             "%.1fx (target >= 10x: %s); throughput per receiver CPU, MERGE/BYPASS: "
             "%.2fx (target >= 1.5x: %s); throughput MERGE/BYPASS: %.2fx" % (
                 runs, secs, pk_ratio, "met" if pk_ratio >= 10 else "NOT met",
                 cpu_ratio, "met" if cpu_ratio >= 1.5 else "NOT met", tp_ratio))
text = "\n".join(lines)
print(text)
if out:
    open(out, "w").write(text + "\n")
PY
