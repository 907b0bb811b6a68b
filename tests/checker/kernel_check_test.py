#!/usr/bin/python3
"""Real kernel traffic through grod, judged by the independent checker.

  kernel_check_test.py GROD [--modes MERGE,MERGE_LINK,LIST] [--traffic tcp,udp,udp_frag]

Two network namespaces, each with one end of a veth pair; grod bridges the
other two ends with DPDK's af_packet PMD (as tests/kernel_traffic_test.sh).
tcpdump records grod's input on the host's veth ends (-Q in, where grod's
af_packet socket reads it) and grod's output inside each namespace (-Q in);
the checker compares the two per 5-tuple. Needs root. Traffic kinds:
  tcp       a TCP stream each way (data + ACKs), kernel MSS, offloads off
  udp       paced 1200-byte datagrams A -> B
  udp_frag  paced 3000-byte datagrams A -> B (the kernel fragments them)
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check  # noqa: E402
import grod_run  # noqa: E402
import pcapio  # noqa: E402
from wait import wait_for  # noqa: E402

ENV = dict(os.environ, PATH="/usr/sbin:/sbin:/usr/bin:/bin")
TCP_BYTES = 2_000_000
PIN = ["taskset", "-c", "0"]  # the kernel side of the traffic on one CPU


def run(*argv, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL)


class Namespaces:
    """nsA(va) <-> pa [grod] pb <-> nsB(vb); names unique to this process."""

    def __init__(self):
        i = os.getpid()
        self.ns = ("chkA%d" % i, "chkB%d" % i)
        self.veth = ("cva%d" % i, "cvb%d" % i)
        self.port = ("cpa%d" % i, "cpb%d" % i)
        self.addr = ("10.78.0.1", "10.78.0.2")

    def __enter__(self):
        for ns, v, p, a in zip(self.ns, self.veth, self.port, self.addr):
            run("ip", "netns", "add", ns)
            run("ip", "link", "add", v, "type", "veth", "peer", "name", p)
            run("ip", "link", "set", v, "netns", ns)
            run("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % v, ns=ns)
            run("ip", "addr", "add", a + "/24", "dev", v, ns=ns)
            run("ip", "link", "set", v, "up", ns=ns)
            run("ip", "link", "set", "lo", "up", ns=ns)
            # Real MTU-sized frames with complete checksums, as from a NIC.
            run("ethtool", "-K", v, "tso", "off", "gso", "off", "gro", "off", "tx", "off", ns=ns)
            # The host's own ends must stay silent (no MLD/ND): every frame a
            # namespace receives must have crossed grod.
            run("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % p)
            run("ip", "link", "set", p, "up")
            run("ethtool", "-K", p, "tso", "off", "gso", "off", "gro", "off", "tx", "off")
        return self

    def __exit__(self, *exc):
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], env=ENV, stderr=subprocess.DEVNULL)
        for p in self.port:
            subprocess.run(["ip", "link", "del", p], env=ENV, stderr=subprocess.DEVNULL)


def grod_config(net, mode, tag):
    # grod's worker on CPU 0 with the traffic (taskset below): a sender on
    # several CPUs can have its frames reordered by the kernel between
    # the namespace and grod's port (veth queues each frame on the sending
    # CPU's backlog), which no capture point can see the same way grod does.
    eal = ["-l", "0-1", "--main-lcore", "1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
           "--file-prefix=kc%d%s" % (os.getpid(), tag), "--no-telemetry", "--log-level=*:warning",
           "--log-level=grod*:info",
           "--vdev=net_af_packet0,iface=%s,qpairs=1" % net.port[0],
           "--vdev=net_af_packet1,iface=%s,qpairs=1" % net.port[1]]
    ports = grod_run.ports_text(["net_af_packet0", "net_af_packet1"], mode)
    return ports + "\n".join(['eal_args: "%s"' % a for a in eal] + [
        'grpc_listen: "127.0.0.1:0"', 'metrics_listen: "127.0.0.1:0"', "idle_sleep_us: 20",
        'tenants { name: "chk" selectors { port_id: 0 } selectors { port_id: 1 } '
        "default_mode: GRO_MODE_%s flush_policy { kind: FLUSH_KIND_ADAPTIVE "
        "timeout { nanos: 100000 } } }" % grod_run.VARIANTS[mode][0], ""])


def start_grod(grod, net, mode, workdir):
    cfg = os.path.join(workdir, "kgrod_%s.textproto" % mode)
    log = os.path.join(workdir, "kgrod_%s.log" % mode)
    with open(cfg, "w") as fh:
        fh.write(grod_config(net, mode, mode.lower()))
    # A worker sharing CPU 0 with the traffic may lose it for a while.
    proc = subprocess.Popen([grod, "--config=" + cfg, "--worker_stall_ms=5000"],
                            stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_for(lambda: grod_run._ready.search(open(log).read()) or proc.poll() is not None, 60)
    m = grod_run._ready.search(open(log).read())
    if m:
        return proc, int(m.group(2)), log
    proc.kill()
    raise RuntimeError("grod did not come up:\n" + open(log).read())


def start_capture(ns, dev, direction, path):
    proc = subprocess.Popen(
        (["ip", "netns", "exec", ns] if ns else []) + ["tcpdump", "-i", dev, "-Q", direction, "-s", "0", "-B",
         "32768", "-U", "-n", "-w", path], env=ENV, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # "listening on ..." once the socket is bound
    if "listening" not in line:
        raise RuntimeError("tcpdump did not start: %s" % line)
    return proc


def stop_capture(proc):
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read()
    proc.wait(timeout=30)
    for line in err.splitlines():
        if "dropped by kernel" in line and not line.startswith("0 "):
            raise RuntimeError("tcpdump lost frames (%s): rerun on a quieter machine" % line)


def wait_forwarded(metrics_port, timeout=30):
    """Until grod holds nothing and its TX counters stand still."""
    url = "http://127.0.0.1:%d/metrics" % metrics_port
    st = {"last": None, "stable": 0, "text": ""}

    def settled():
        st["text"] = text = urllib.request.urlopen(url, timeout=10).read().decode()
        held = grod_run.sample(text, "grod_gro_held_packets", 'tenant="chk"') or 0
        tx = [grod_run.sample(text, "grod_port_transmit_packets_total", 'port="%s"' % d)
              for d in ("net_af_packet0", "net_af_packet1")]
        st["stable"] = st["stable"] + 1 if held == 0 and tx == st["last"] else 0
        st["last"] = tx
        return st["stable"] >= 3

    wait_for(settled, timeout, poll=0.1)
    return st["text"]


def traffic(net, kinds, workdir):
    me = os.path.abspath(__file__)
    a, b = net.ns
    procs, servers = [], []  # servers: (netns, proto, port)
    if "tcp" in kinds:
        for src, dst, port in ((a, b, 5301), (b, a, 5302)):
            srv = subprocess.Popen(["ip", "netns", "exec", dst] + PIN + [sys.executable, me, "tcp-sink",
                                    str(port)], env=ENV)
            procs.append((srv, src, ["tcp-send", net.addr[net.ns.index(dst)], str(port),
                                     str(TCP_BYTES)]))
            servers.append((dst, "tcp", port))
    for kind, size, count in (("udp", 1200, 2000), ("udp_frag", 3000, 300)):
        if kind in kinds:
            port = 5303 if kind == "udp" else 5304
            srv = subprocess.Popen(["ip", "netns", "exec", b] + PIN + [sys.executable, me, "udp-sink",
                                    str(port)], env=ENV)
            procs.append((srv, a, ["udp-send", net.addr[1], str(port), str(count), str(size)]))
            servers.append((b, "udp", port))
    # Until every server is bound (a datagram sent before would be lost).
    def bound(ns, proto, port):
        out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hln" + proto[0],
                              "sport = :%d" % port], env=ENV, capture_output=True, text=True)
        return out.stdout.strip() != ""
    if not wait_for(lambda: all(bound(*s) for s in servers)):
        raise RuntimeError("traffic servers did not bind: %s" % servers)
    clients = [subprocess.Popen(["ip", "netns", "exec", src] + PIN + [sys.executable, me] + args,
                                env=ENV)
               for _, src, args in procs]
    for c in clients:
        if c.wait(timeout=120) != 0:
            raise RuntimeError("traffic client failed: %s" % c.args)
    for srv, _, _ in procs:
        srv.wait(timeout=60)


def run_mode(grod, net, mode, kinds, workdir):
    proc, metrics_port, log = start_grod(grod, net, mode, workdir)
    caps = {}
    try:
        # grod's input is recorded where grod reads it, on the host's veth
        # ends: between a namespace's veth and its peer the kernel may
        # reorder (a TCP sender transmits from several CPUs, and veth
        # queues each frame on the sending CPU's backlog). Its output is
        # recorded where the namespaces receive it (grod sends from one
        # lcore, so that path keeps its order).
        for side in (0, 1):
            path = os.path.join(workdir, "%s_%d_in.pcap" % (mode.lower(), side))
            caps[(side, "in")] = (start_capture(None, net.port[side], "in", path), path)
            path = os.path.join(workdir, "%s_%d_out.pcap" % (mode.lower(), side))
            caps[(side, "out")] = (start_capture(net.ns[side], net.veth[side], "in", path), path)
        traffic(net, kinds, workdir)
        metrics = wait_forwarded(metrics_port)
    finally:
        for c, _ in caps.values():
            stop_capture(c)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    if code != 0:
        raise RuntimeError("grod exited %d:\n%s" % (code, open(log).read()))
    frames = {role: pcapio.read(caps[(0, role)][1]) + pcapio.read(caps[(1, role)][1])
              for role in ("in", "out")}
    # The captures must hold what grod itself counted, else tcpdump missed
    # frames (it does not always say so on a loaded machine): retry then.
    ports = ("net_af_packet0", "net_af_packet1")
    counted = {role: int(sum(grod_run.sample(metrics, "grod_port_%s_packets_total" % name,
                                             'port="%s"' % d) or 0 for d in ports))
               for role, name in (("in", "receive"), ("out", "transmit"))}
    if any(len(frames[r]) != counted[r] for r in frames):
        return None, "captures hold %d in / %d out frames, grod counted %d received / %d sent" % (
            len(frames["in"]), len(frames["out"]), counted["in"], counted["out"])
    rep = check.check(frames["in"], frames["out"], mtu=1500)
    missed = sum(grod_run.sample(metrics, "grod_port_receive_missed_packets_total",
                                 'port="%s"' % d) or 0 for d in ("net_af_packet0", "net_af_packet1"))
    if missed:
        rep.add("grod", "the af_packet rings overflowed (%d frames never reached grod): the "
                "machine was too busy; rerun" % missed)
    problems, summary = grod_run.gro_problems(metrics, mode, frames["in"], frames["out"])
    for p in problems:
        rep.add("grod", p)
    print("kernel %-10s %s: %d frames in, %d out, %s: %s" % (
        mode, ",".join(kinds), len(frames["in"]), len(frames["out"]), summary,
        "ok" if rep.ok() else "FAIL"), flush=True)
    if not rep.ok():
        print(rep.text())
        print("grod's counters:\n" + "\n".join(
            l for l in metrics.splitlines() if l.startswith(("grod_port_", "grod_gro_segments",
                                                              "grod_passthrough", "grod_gro_flushes",
                                                              "grod_gro_merge_as_list"))))
        print("captures: %s" % " ".join(p for _, p in caps.values()))
    return rep.ok(), None


# --- traffic endpoints (run inside a namespace) ---

def tcp_sink(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    s.settimeout(60)
    conn, _ = s.accept()
    while conn.recv(1 << 16):
        pass
    conn.close()


def tcp_send(host, port, n):
    conn = []

    def connected():
        try:
            conn.append(socket.create_connection((host, port), timeout=60))
            return True
        except OSError:
            return False

    if not wait_for(connected, 5, poll=0.1):
        raise RuntimeError("could not connect to %s:%d" % (host, port))
    s = conn[0]
    s.sendall(os.urandom(n))
    s.shutdown(socket.SHUT_WR)
    s.recv(1)


def udp_sink(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(2)
    try:
        while True:
            s.recv(65535)
    except socket.timeout:
        pass


def udp_send(host, port, count, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(i.to_bytes(4, "big") + os.urandom(size - 4), (host, port))
        if i % 16 == 15:
            time.sleep(0.002)  # sleep-ok: paces the sender (no socket or ring overrun)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("tcp-sink", "tcp-send", "udp-sink", "udp-send"):
        fn = {"tcp-sink": tcp_sink, "tcp-send": tcp_send, "udp-sink": udp_sink,
              "udp-send": udp_send}[sys.argv[1]]
        fn(*[int(a) if a.isdigit() else a for a in sys.argv[2:]])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("grod")
    ap.add_argument("--modes", default="MERGE,MERGE_LINK,LIST")
    ap.add_argument("--traffic", default="tcp,udp")
    ap.add_argument("--keep")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("kernel_check_test needs root (network namespaces)")
    workdir = args.keep or tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    os.makedirs(workdir, exist_ok=True)
    grod = os.path.realpath(args.grod)
    ok = True
    with Namespaces() as net:
        for mode in args.modes.split(","):
            for attempt in range(3):
                verdict, capture_problem = run_mode(grod, net, mode, args.traffic.split(","),
                                                    workdir)
                if verdict is not None:
                    break
                print("kernel %s: %s; capturing again" % (mode, capture_problem), flush=True)
            if verdict is None:
                sys.exit("kernel %s: tcpdump kept missing frames (%s); rerun on a quieter "
                         "machine" % (mode, capture_problem))
            ok &= verdict
    print("PASS" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
