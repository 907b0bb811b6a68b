#!/usr/bin/env bash
# Process-level benchmark (issue #15): the grod process against DPDK's own
# forwarder, dpdk-testpmd, on the same virtual devices and the same captures,
# one forwarding lcore each, one process at a time.
#
#   scripts/bench_process.sh            5 interleaved runs of 3 s per cell
#   scripts/bench_process.sh --quick    2 runs of 2 s
#   scripts/bench_process.sh --smoke    1 run of 1 s, TCP4 64 flows only
#   options: --runs=N --seconds=S --flows="1 64 4096" --traffic="tcp4 tcp6 udp4"
#            --no-kernel (skip the real kernel TCP capture; made by default
#            when run as root: iperf3 between two network namespaces)
#            --grod=PATH (a grod binary; default: bazel build -c opt //grod)
#            --configs="tp_io grod_bypass tp_gro grod_merge grod_list"
#            (a subset to measure; the table shows - for the others)
#            --out=FILE (also write the markdown table there)
#
# Ports: net_pcap0 (rx_pcap=capture, infinite_rx=1: the capture replayed
# forever) -> net_null0 (no-rx=1: frees what it is given, no TSO, no
# checksum offload).  Rate = packets received on net_pcap0 per second over
# a fixed interval after a warm-up: testpmd's own Rx-pps of `show port
# stats 0`, grod's grod_port_receive_packets_total delta.  The run also
# checks that the packets were forwarded (TX) and, for grod, that no packet
# failed its checksum (the captures' checksums are all valid).
#
# Needs root-free nothing special: --no-huge, --no-pci, --no-shconf.  The
# tables compare medians; absolute numbers depend on the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=5
SECS=3
WARM=1
FLOWS="1 64 4096"
TRAFFIC="tcp4 tcp6 udp4"
KERNEL=auto
GROD=""
OUT=""
SMOKE=0
CONFIGS=(tp_io grod_bypass tp_gro grod_merge grod_list)
for arg in "$@"; do
  case "$arg" in
    --quick) RUNS=2 SECS=2 ;;
    --smoke) SMOKE=1 RUNS=1 SECS=1 WARM=0.5 FLOWS="64" TRAFFIC="tcp4" KERNEL=0 ;;
    --runs=*) RUNS="${arg#*=}" ;;
    --seconds=*) SECS="${arg#*=}" ;;
    --flows=*) FLOWS="${arg#*=}" ;;
    --traffic=*) TRAFFIC="${arg#*=}" ;;
    --no-kernel) KERNEL=0 ;;
    --grod=*) GROD="${arg#*=}" ;;
    --configs=*) read -r -a CONFIGS <<<"${arg#*=}" ;;
    --out=*) OUT="${arg#*=}" ;;
    -h | --help)
      sed -n '2,15p' "$0"
      exit 0
      ;;
    *)
      echo "bench_process: unknown option $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

if [ "$KERNEL" = auto ]; then
  KERNEL=0
  if [ "$(id -u)" = 0 ] && command -v iperf3 >/dev/null && command -v tcpdump >/dev/null; then
    KERNEL=1
  fi
fi
TESTPMD=$(command -v dpdk-testpmd || true)
if [ -z "$TESTPMD" ]; then
  echo "bench_process: dpdk-testpmd not found: run scripts/setup.sh (Debian package dpdk-dev)" >&2
  exit 1
fi
PY=/usr/bin/python3
if [ -z "$GROD" ]; then
  echo "bench_process: building grod (-c opt; the first build takes a few minutes)..." >&2
  bazel build -c opt //grod >&2
  GROD="$(bazel info -c opt bazel-bin 2>/dev/null)/grod/grod"
fi
[ -x "$GROD" ] || { echo "bench_process: no grod binary at $GROD" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bench_process.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$KERNEL" = 1 ]; then
    ip netns del "pbk_a$$" 2>/dev/null || true
    ip netns del "pbk_b$$" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
MBUFS=40000  # the capture's 16384 packets stay in net_pcap's ring

# --- captures -------------------------------------------------------------
CAPTURES=()  # name:file
for t in $TRAFFIC; do
  for f in $FLOWS; do
    train=16
    [ "$f" -ge 1024 ] && train=4  # many slow flows: short trains
    "$PY" scripts/bench_pcap.py "$WORK/$t-$f.pcap" "$t" "$f" --train=$train \
      --packets=16384
    CAPTURES+=("$t/$f/$train:$WORK/$t-$f.pcap")
  done
done

if [ "$KERNEL" = 1 ]; then
  # Real Linux TCP: iperf3 with 4 parallel streams between two namespaces
  # over a veth pair, captured on the sender's veth with TSO, GSO and TX
  # checksum offload off (so the capture holds MSS segments with complete
  # checksums, as a NIC would deliver them), data direction only.
  echo "bench_process: capturing real kernel traffic (iperf3, 4 streams)..." >&2
  A="pbk_a$$" B="pbk_b$$"
  ip netns add "$A"
  ip netns add "$B"
  ip link add "pbka$$" netns "$A" type veth peer name "pbkb$$" netns "$B"
  ip -n "$A" addr add 10.77.0.1/24 dev "pbka$$"
  ip -n "$B" addr add 10.77.0.2/24 dev "pbkb$$"
  ip -n "$A" link set "pbka$$" up
  ip -n "$B" link set "pbkb$$" up
  ip netns exec "$A" ethtool -K "pbka$$" tx off tso off gso off >/dev/null
  ip netns exec "$B" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
  PIDS+=($!)
  sleep 0.5
  ip netns exec "$A" timeout 20 tcpdump -i "pbka$$" -s 2000 -c 16384 -w "$WORK/kernel.pcap" \
    'tcp dst port 5201 and greater 1000' >/dev/null 2>&1 &
  tcpd=$!
  sleep 0.5
  ip netns exec "$A" iperf3 -c 10.77.0.2 -p 5201 -P 4 -t 3 >/dev/null 2>&1 || true
  wait "$tcpd" || true
  CAPTURES+=("kernel-tcp4/4/real:$WORK/kernel.pcap")
  ip netns del "$A"
  ip netns del "$B"
fi

# --- one measurement -------------------------------------------------------
EAL_COMMON=(-l 0,1 --no-huge -m 1024 --no-pci --no-shconf --no-telemetry
  "--log-level=*:warning")

# The forwarding lcore's thread of process PID (EAL names it rte-worker-1).
worker_tid() {
  local t
  for t in /proc/"$1"/task/*; do
    if [ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ]; then
      basename "$t"
      return
    fi
  done
  echo "bench_process: no rte-worker-1 thread in process $1" >&2
  return 1
}
# Nanoseconds thread TID of PID has run on a CPU (/proc schedstat).
cpu_ns() { cut -d' ' -f1 "/proc/$1/task/$2/schedstat"; }

# testpmd MODE PCAP -> "rx_pps tx_pps rx_per_cpu_second cpu_share"
# Driven through its stdin (a FIFO): the commands are sent only once it is
# ready (its first `show port stats` answered), so that the measured
# interval is the one slept here and not a queue of commands read at once
# after a slow start; the rate is testpmd's own Rx-pps between the last
# two `show port stats 0` (its TSC), Tx-pps of port 1 as the check.
run_testpmd() {
  local mode=$1 pcap=$2 log="$WORK/testpmd.log" fifo="$WORK/testpmd.in"
  rm -f "$fifo"
  mkfifo "$fifo"
  stdbuf -oL timeout $((SECS + 90)) "$TESTPMD" "${EAL_COMMON[@]}" \
    "--file-prefix=pbtp$$" \
    "--vdev=net_pcap0,rx_pcap=$pcap,infinite_rx=1" "--vdev=net_null0,no-rx=1" \
    -- -i --nb-cores=1 --total-num-mbufs=$MBUFS <"$fifo" >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  # (Opening the FIFO blocks until testpmd has it open: check it started.)
  sleep 0.2
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "bench_process: testpmd did not start" >&2
    return 1
  fi
  exec 3>"$fifo"
  {
    if [ "$mode" = gro ]; then
      echo "set fwd csum"
      echo "port stop all"
      echo "set port 0 gro on"
      echo "set gro flush 1"
      echo "set port 1 gso on"
      echo "set gso segsz 1514"
      echo "port start all"
    else
      echo "set fwd io"
    fi
    echo "start"
    echo "show port stats 0"
  } >&3
  local i
  for i in $(seq 1 600); do
    grep -q "statistics for port 0" "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  sleep "$WARM"
  local tid c0 c1
  tid=$(worker_tid "$(pgrep -P "$pid" dpdk-testpmd || echo "$pid")") || return 1
  local tpid
  tpid=$(pgrep -P "$pid" dpdk-testpmd || echo "$pid")
  c0=$(cpu_ns "$tpid" "$tid")
  echo "show port stats 0" >&3
  echo "show port stats 1" >&3
  sleep "$SECS"
  c1=$(cpu_ns "$tpid" "$tid")
  echo "show port stats 0" >&3
  echo "show port stats 1" >&3
  echo "stop" >&3
  echo "quit" >&3
  exec 3>&-
  if ! wait "$pid"; then
    echo "bench_process: testpmd failed, its log:" >&2
    tail -20 "$log" >&2
    return 1
  fi
  # The last `show port stats` of each port: Rx-pps / Tx-pps since the one
  # before (testpmd's clock); received packets between the two per CPU
  # second of the forwarding thread.
  awk -v cpu=$((c1 - c0)) -v secs="$SECS" '
       /NIC statistics for port 0/ {p = 0} /NIC statistics for port 1/ {p = 1}
       /Forward statistics/ {p = -1}
       /RX-packets:/ && p == 0 {prev = last; last = $2}
       /Rx-pps:/ {rx[p] = $2} /Tx-pps:/ {tx[p] = $2}
       END {printf "%d %d %.0f %.3f\n", rx[0], tx[1], (last - prev) / (cpu / 1e9),
            cpu / 1e9 / secs}' "$log"
}

metric() {  # metric TEXT NAME LABELS -> value (0 if absent)
  awk -v k="$2{$3} " 'index($0, k) == 1 {v = $2} END {print v + 0}' <<<"$1"
}

# grod MODE PCAP -> "rx_pps tx_pps"
run_grod() {
  local mode=$1 pcap=$2 dir="$WORK/grod" port
  mkdir -p "$dir"
  port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  {
    for a in "${EAL_COMMON[@]}" "--file-prefix=pbgr$$" \
      "--vdev=net_pcap0,rx_pcap=$pcap,infinite_rx=1" "--vdev=net_null0,no-rx=1"; do
      echo "eal_args: \"$a\""
    done
    cat <<EOF
ports { device: "net_pcap0" peer: "net_null0" }
ports { device: "net_null0" peer: "net_pcap0" }
mbufs: $MBUFS
grpc_listen: "127.0.0.1:0"
metrics_listen: "127.0.0.1:$port"
tenants {
  name: "bench"
  selectors { port_id: 0 }
  default_mode: GRO_MODE_$mode
  flush_policy { kind: FLUSH_KIND_PER_BURST }
}
EOF
  } >"$dir/config.textproto"
  "$GROD" --config="$dir/config.textproto" >"$dir/log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local m0="" i
  for i in $(seq 1 200); do
    m0=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null || true)
    [ -n "$m0" ] && [ "$(metric "$m0" grod_port_receive_packets_total 'port="net_pcap0"')" != 0 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null || [ -z "$m0" ]; then
    echo "bench_process: grod did not start, its log:" >&2
    tail -20 "$dir/log" >&2
    kill -9 "$pid" 2>/dev/null || true
    return 1
  fi
  sleep "$WARM"
  local t0 t1 m1 tid c0 c1
  tid=$(worker_tid "$pid") || return 1
  t0=$(date +%s.%N)
  c0=$(cpu_ns "$pid" "$tid")
  m0=$(curl -sf "http://127.0.0.1:$port/metrics")
  sleep "$SECS"
  t1=$(date +%s.%N)
  c1=$(cpu_ns "$pid" "$tid")
  m1=$(curl -sf "http://127.0.0.1:$port/metrics")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  local rx0 rx1 tx0 tx1 bad
  rx0=$(metric "$m0" grod_port_receive_packets_total 'port="net_pcap0"')
  rx1=$(metric "$m1" grod_port_receive_packets_total 'port="net_pcap0"')
  tx0=$(metric "$m0" grod_port_transmit_packets_total 'port="net_null0"')
  tx1=$(metric "$m1" grod_port_transmit_packets_total 'port="net_null0"')
  bad=$(metric "$m1" grod_passthrough_packets_total 'reason="bad_checksum",tenant="bench"')
  bad=$((bad + $(metric "$m1" grod_passthrough_packets_total 'tenant="bench",reason="bad_checksum"')))
  if [ "$bad" != 0 ]; then
    echo "bench_process: grod passed $bad packets with a bad checksum: the capture is broken" >&2
    return 1
  fi
  awk -v a="$rx0" -v b="$rx1" -v c="$tx0" -v d="$tx1" -v t0="$t0" -v t1="$t1" \
    -v cpu=$((c1 - c0)) 'BEGIN {printf "%.0f %.0f %.0f %.3f\n", (b - a) / (t1 - t0),
      (d - c) / (t1 - t0), (b - a) / (cpu / 1e9), cpu / 1e9 / (t1 - t0)}'
}

# --- the runs, interleaved ---------------------------------------------------
for cfg in "${CONFIGS[@]}"; do
  case "$cfg" in
    tp_io | grod_bypass | tp_gro | grod_merge | grod_list) ;;
    *)
      echo "bench_process: unknown configuration $cfg in --configs (see --help)" >&2
      exit 2
      ;;
  esac
done
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
total=$((RUNS * ${#CAPTURES[@]} * ${#CONFIGS[@]}))
k=0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench_process: $total measurements ($RUNS runs x ${#CAPTURES[@]} captures x ${#CONFIGS[@]} configurations, ${SECS}s each after ${WARM}s warm-up); load average before: $LOAD_BEFORE" >&2
for r in $(seq 1 "$RUNS"); do
  for c in "${CAPTURES[@]}"; do
    name=${c%%:*}
    pcap=${c#*:}
    for cfg in "${CONFIGS[@]}"; do
      k=$((k + 1))
      case "$cfg" in
        tp_io) res=$(run_testpmd io "$pcap") ;;
        tp_gro) res=$(run_testpmd gro "$pcap") ;;
        grod_bypass) res=$(run_grod BYPASS "$pcap") ;;
        grod_merge) res=$(run_grod MERGE "$pcap") ;;
        grod_list) res=$(run_grod LIST "$pcap") ;;
      esac
      read -r rx tx percpu share <<<"$res"
      if [ "${rx:-0}" = 0 ] || [ "${tx:-0}" = 0 ]; then
        echo "bench_process: $cfg on $name forwarded nothing (rx $rx/s, tx $tx/s)" >&2
        exit 1
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cfg" "$r" "$rx" "$tx" \
        "$percpu" "$share" >>"$RESULTS"
      printf 'bench_process: [%d/%d] run %d %-18s %-12s %6.2f Mpps in, %6.2f out; %6.2f Mpps per CPU second (worker got %.0f%% of a CPU)\n' \
        "$k" "$total" "$r" "$name" "$cfg" "$(awk -v x="$rx" 'BEGIN{print x/1e6}')" \
        "$(awk -v x="$tx" 'BEGIN{print x/1e6}')" "$(awk -v x="$percpu" 'BEGIN{print x/1e6}')" \
        "$(awk -v x="$share" 'BEGIN{print x*100}')" >&2
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ----------------------------------------------------------------
TABLE=$("$PY" - "$RESULTS" "$RUNS" "$SECS" "$LOAD_BEFORE" "$LOAD_AFTER" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, secs, lb, la = sys.argv[2:6]
by = {}
order = []
for name, cfg, r, rx, tx, percpu, share in rows:
    if name not in order:
        order.append(name)
    by.setdefault((name, cfg), []).append((float(rx), float(percpu), float(share)))
CFGS = ["tp_io", "grod_bypass", "tp_gro", "grod_merge", "grod_list"]
def med(name, cfg, i):
    if (name, cfg) not in by:
        return None  # not measured (--configs)
    return statistics.median(v[i] for v in by[(name, cfg)]) / (1e6 if i < 2 else 0.01)
def ratio(name, a, b, i):
    # median of per-run ratios (runs are interleaved: similar load)
    if (name, a) not in by or (name, b) not in by:
        return None
    return statistics.median(x[i] / y[i] for x, y in zip(by[(name, a)], by[(name, b)]))
def f(v, fmt="%.2f"):
    return "-" if v is None else fmt % v
def note(t):
    if t == "tcp6":
        return "testpmd's GRO and GSO have no TCP6"
    if t == "udp4":
        return "rte_gro merges UDP4 only as IP fragments"
    if t.startswith("kernel"):
        return "real Linux TCP (iperf3 -P 4), MSS 1448 + timestamps"
    return ""
def flows(name):
    t, f, train = name.split("/")
    return "%s (real)" % f if train == "real" else "%s (trains of %s)" % (f, train)
def table(i, title):
    print(title)
    print()
    print("| traffic | flows | testpmd io | grod BYPASS | BYPASS / io | "
          "testpmd csum+GRO+GSO | grod MERGE | MERGE / testpmd GRO | grod LIST | "
          "LIST / testpmd GRO | note |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in order:
        t = name.split("/")[0]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            t, flows(name), f(med(name, "tp_io", i)), f(med(name, "grod_bypass", i)),
            f(ratio(name, "grod_bypass", "tp_io", i), "%.2fx"), f(med(name, "tp_gro", i)),
            f(med(name, "grod_merge", i)), f(ratio(name, "grod_merge", "tp_gro", i), "%.2fx"),
            f(med(name, "grod_list", i)), f(ratio(name, "grod_list", "tp_gro", i), "%.2fx"),
            note(t)))
    print()
print("On net_pcap, testpmd's GRO merges nothing at all (checked: with GSO off its output "
      "is all input-sized frames; rte_gro selects packets by mbuf packet_type, which "
      "net_pcap evidently leaves unset): its GRO column is the csum engine.")
print()
table(1, "**Mpps per CPU second of the forwarding lcore's thread** (packets received / "
      "the time that thread ran, from /proc schedstat: what one dedicated core would do):")
table(0, "**Mpps received per wall-clock second** (depends on the CPU share each process got):")
print("CPU share the forwarding thread got (median):")
print()
print("| traffic | flows | testpmd io | grod BYPASS | testpmd GRO | grod MERGE | grod LIST |")
print("|---|---|---:|---:|---:|---:|---:|")
for name in order:
    print("| %s | %s | " % (name.split("/")[0], flows(name)) +
          " | ".join(f(med(name, c, 2), "%.0f%%") for c in CFGS) + " |")
print()
print("Medians of %s interleaved runs of %s s each; ratios are medians of per-run "
      "ratios. Load average before / after: %s / %s." % (runs, secs, lb, la))
EOF
)
echo
echo "$TABLE"
if [ -n "$OUT" ]; then echo "$TABLE" >"$OUT"; fi
