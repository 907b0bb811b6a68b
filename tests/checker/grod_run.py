"""Runs the real grod binary over a capture: rx_pcap=IN, tx_pcap=OUT.

grod gets one net_pcap port (it forwards to itself) and one tenant owning
that port in the given mode (a VARIANTS key). The run ends when grod's own counters say the
capture was consumed and forwarded: every input frame received, nothing held
in GRO tables, and the transmit counter still over two scrapes; then SIGTERM
(the pcap writer is flushed when the port closes).
"""
import os
import re
import signal
import subprocess
import time
import urllib.request

import check
from wait import wait_for

_ready = re.compile(r"bound port (\d+)\), metrics on .*bound port (\d+)")
_counter = 0


def sample(text, name, label):
    m = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(label)), text, re.M)
    return float(m.group(1)) if m else None


# How the tests run the tenant: its GRO mode, and merged_without_tso of the
# port(s) it sends to. None there: the field left out (LINK, the default).
# The test ports (net_pcap, af_packet) have no TSO, so with LINK MERGE links
# what it would merge (the input frames leave as they came; IPv4 fragments
# are still reassembled); SEGMENT_IN_SOFTWARE merges and cuts the merged
# packets back by software GSO -- the merge engine's output, for the checker.
VARIANTS = {
    "MERGE": ("MERGE", "SEGMENT_IN_SOFTWARE"),
    "MERGE_LINK": ("MERGE", None),
    "LIST": ("LIST", None),
}


def ports_text(devices, variant):
    """The config's ports entries for `variant` ("" when it needs none)."""
    how = VARIANTS[variant][1]
    if how is None:
        return ""
    return "\n".join('ports { device: "%s" merged_without_tso: %s }' % (d, how)
                     for d in devices) + "\n"


def gro_problems(metrics, variant, in_frames, out_frames, tenant="chk"):
    """What grod's counters and the frames say against `variant` having
    done its work: a list of messages (empty: fine), and a summary line.
    MERGE must have merged (and linked nothing), MERGE_LINK and LIST must
    have left every input frame but IPv4 fragments unchanged."""
    label = 'tenant="%s"' % tenant
    n = lambda name: sample(metrics, name, label) or 0
    merged, listed = n("grod_gro_segments_merged_total"), n("grod_gro_segments_listed_total")
    as_list = n("grod_gro_merge_as_list_packets_total")
    problems = []
    if variant == "MERGE":
        if not merged:
            problems.append("grod merged no segment although its port segments merged "
                            "packets in software (merged_without_tso: SEGMENT_IN_SOFTWARE)")
        if as_list:
            problems.append("grod linked %d MERGE packets although its port segments merged "
                            "packets in software" % as_list)
    elif not (merged + as_list if variant == "MERGE_LINK" else listed):
        problems.append("grod %s no segment: the traffic did not exercise GRO" % (
            "merged or linked" if variant == "MERGE_LINK" else "listed"))
    if variant != "MERGE":
        problems += check.check_unchanged(in_frames, out_frames).text().splitlines()[1:]
    summary = "segments merged %d listed %d (merge as list %d)" % (merged, listed, as_list)
    return [p.strip() for p in problems], summary


def config_text(in_pcap, out_pcap, mode, flush, tag):
    eal = ["-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
           "--file-prefix=chk%d_%s" % (os.getpid(), tag), "--no-telemetry",
           "--log-level=*:warning", "--log-level=grod*:info",
           "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (in_pcap, out_pcap)]
    policy = {"timeout": "kind: FLUSH_KIND_TIMEOUT timeout { nanos: 500000 }",
              "adaptive": "kind: FLUSH_KIND_ADAPTIVE timeout { nanos: 500000 }",
              "burst": "kind: FLUSH_KIND_PER_BURST"}[flush]
    return ports_text(["net_pcap0"], mode) + "\n".join(
        ['eal_args: "%s"' % a for a in eal] +
        ['grpc_listen: "127.0.0.1:0"', 'metrics_listen: "127.0.0.1:0"',
         "idle_sleep_us: 50",
         'tenants { name: "chk" selectors { port_id: 0 } default_mode: GRO_MODE_%s '
         "flush_policy { %s } }" % (VARIANTS[mode][0], policy),
         'unmatched_tenant: "chk"', ""])


def run(grod, in_pcap, out_pcap, n_frames, mode, workdir, flush="timeout", timeout=300,
        stall=5.0):
    """Returns (grod's final /metrics text, frames grod received). Stops
    early if grod's receive counter stalls below n_frames for `stall`
    seconds with nothing held (net_pcap drops a frame it has no mbuf for:
    leaked mbufs show up so). Raises RuntimeError with grod's log if grod
    does not start, hangs or exits badly."""
    global _counter
    _counter += 1
    tag = "%s%d" % (mode.lower(), _counter)
    cfg = os.path.join(workdir, "grod_%s.textproto" % tag)
    log = os.path.join(workdir, "grod_%s.log" % tag)
    with open(cfg, "w") as fh:
        fh.write(config_text(in_pcap, out_pcap, mode, flush, tag))
    with open(log, "w") as logfh:
        # A worker lcore may lose the CPU for a while on a loaded machine: as
        # tests/testing/grod_process.cc, stalls count only past 5 s.
        proc = subprocess.Popen([grod, "--config=" + cfg, "--worker_stall_ms=5000"], stdout=logfh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    read_log = lambda: open(log, errors="replace").read()
    try:
        deadline = time.time() + timeout
        wait_for(lambda: _ready.search(read_log()) or proc.poll() is not None, timeout)
        m = _ready.search(read_log())
        if not m:
            raise RuntimeError("grod did not come up:\n" + read_log())
        url = "http://127.0.0.1:%d/metrics" % int(m.group(2))
        st = {"last_tx": None, "stable": 0, "text": "", "rx": None, "last_rx": None,
              "rx_time": time.time()}

        def forwarded():
            st["text"] = text = urllib.request.urlopen(url, timeout=10).read().decode()
            st["rx"] = rx = sample(text, "grod_port_receive_packets_total", 'port="net_pcap0"')
            held = sample(text, "grod_gro_held_packets", 'tenant="chk"') or 0
            tx = sample(text, "grod_port_transmit_packets_total", 'port="net_pcap0"')
            if rx != st["last_rx"]:
                st["last_rx"], st["rx_time"] = rx, time.time()
            stalled = time.time() - st["rx_time"] > stall
            if (rx == n_frames or stalled) and held == 0 and tx == st["last_tx"]:
                st["stable"] += 1
            else:
                st["stable"] = 0
            st["last_tx"] = tx
            return st["stable"] >= 2

        if not wait_for(forwarded, max(0.0, deadline - time.time())):
            raise RuntimeError("grod did not forward the capture in %ds (received %s of "
                               "%d):\n%s\n%s" % (timeout, st["rx"], n_frames, st["text"],
                                                   read_log()))
        text, rx = st["text"], st["rx"]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        if code != 0 or "stopped cleanly" not in read_log():
            raise RuntimeError("grod exited %d:\n%s" % (code, read_log()))
        for name in ("grod_port_transmit_dropped_packets_total",
                     "grod_port_receive_missed_packets_total"):
            v = sample(text, name, 'port="net_pcap0"')
            if v:
                raise RuntimeError("grod counted %s = %s" % (name, v))
        return text, int(rx or 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
