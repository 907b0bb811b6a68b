#!/usr/bin/python3
"""The checker must be able to fail: doctored output captures, each with one
fault, must be reported under the right heading; faithful ones must pass.

A seeded input stream is its own faithful output (what LIST mode sends);
a merged-then-cut copy (built here with scapy) is another. Each fault is
made with scapy, checksums recomputed, so only the intended fault is there.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

import check  # noqa: E402
import frames as fr  # noqa: E402
import packets as p  # noqa: E402
import streams  # noqa: E402
from packets import Flow  # noqa: E402

SEED = int(os.environ.get("CHECKER_SEED", "1"))


def rebuild(raw, fn):
    """Applies fn to the scapy packet and recomputes lengths and checksums."""
    pkt = Ether(raw)
    fn(pkt)
    for layer in (IP, TCP, UDP):
        if layer in pkt:
            for field in ("chksum", "len"):
                if field in pkt[layer].fields:
                    delattr(pkt[layer], field)
    if IPv6 in pkt:
        delattr(pkt[IPv6], "plen")
    return bytes(pkt)


def base_stream(rng):
    """TCP4 with one CE segment, TCP6, UDP, fragments, VXLAN6, junk."""
    f4 = Flow(4, "10.50.0.1", "10.51.0.1", 1111, 80)
    tcp4 = streams.tcp_train(rng, f4, 12, 1000)
    tcp4[5] = rebuild(tcp4[5], lambda k: setattr(k[IP], "tos", 3))
    f6 = Flow(6, "2001:db8::50", "2001:db8::51", 2222, 80)
    tcp6 = streams.tcp_train(rng, f6, 8, 1200)
    fu = Flow(4, "10.50.0.2", "10.51.0.1", 3333, 53)
    udp = [p.udp(fu, streams.rand_bytes(rng, 300), ipid=k) for k in range(6)]
    frag = streams.fragments(rng, fu, 777, streams.rand_bytes(rng, 3000), 1480)[0]
    fx = Flow(4, "10.50.0.3", "10.51.0.1", 4444, 80, vxlan=(6, "fd00::1", "fd00::2", 5))
    vx = streams.tcp_train(rng, fx, 4, 1300)
    junk = [p.arp(), p.garbage(rng)]
    # A fragment set with an overlap: [0,400) [400,800) [200,600) [800,..).
    fo = Flow(4, "10.50.0.4", "10.51.0.1", 5555, 53)
    l4 = p.udp_l4_bytes(fo, streams.rand_bytes(rng, 1000))
    over = [p.ipv4_fragment(fo, 888, o, l4[o:o + 400], o + 400 < len(l4))
            for o in (0, 400, 200, 800)]
    return streams.interleave(rng, [tcp4, tcp6, udp, frag, vx, junk, over])


def index_of(frames, pred, nth=0):
    hits = [i for i, raw in enumerate(frames) if pred(fr.parse(raw))]
    return hits[nth]


is_tcp4 = lambda f: f.proto == fr.PROTO_TCP and f.version == 4 and not f.outer and not f.opaque
is_udp = lambda f: f.proto == fr.PROTO_UDP and not f.is_fragment and not f.opaque and not f.outer
is_vx6 = lambda f: f.outer is not None and f.outer[0] == 6
is_frag = lambda f: f.is_fragment


def merged_pair(frames, i, j):
    """One TCP4 frame carrying segments i and j (j follows i in sequence)."""
    b = fr.parse(frames[j]).payload
    return rebuild(frames[i], lambda k: setattr(k[TCP], "payload", k[TCP].payload.__class__(
        bytes(k[TCP].payload) + b)))


def faults(frames):
    """(name, expected report heading, doctored output)."""
    out = []
    t0, t1 = index_of(frames, is_tcp4, 2), index_of(frames, is_tcp4, 3)
    swapped = list(frames)
    swapped[t0], swapped[t1] = swapped[t1], swapped[t0]
    out.append(("reordered TCP pair", "order", swapped))
    u0, u1 = index_of(frames, is_udp, 1), index_of(frames, is_udp, 2)
    swapped = list(frames)
    swapped[u0], swapped[u1] = swapped[u1], swapped[u0]
    out.append(("reordered UDP pair", "order", swapped))
    short = list(frames)
    short[t0] = rebuild(frames[t0], lambda k: setattr(k[TCP], "payload", k[TCP].payload.__class__(
        bytes(k[TCP].payload)[:-1])))
    out.append(("dropped byte", "tcp", short))
    dup = list(frames) + [frames[t1]]
    out.append(("duplicated segment", "tcp", dup))
    lost = [r for k, r in enumerate(frames) if k != u1]
    out.append(("lost datagram", "udp", lost))
    big = [r for k, r in enumerate(frames) if k != t1]
    big[t0] = merged_pair(frames, t0, t1)
    out.append(("oversize frame", "mtu", big))
    bad = list(frames)
    raw = bytearray(frames[t0])
    raw[-1] ^= 0x5A
    bad[t0] = bytes(raw)
    out.append(("bad TCP checksum", "frame", bad))
    ce = index_of(frames, lambda f: is_tcp4(f) and f.ce)
    cleared = list(frames)
    cleared[ce] = rebuild(frames[ce], lambda k: setattr(k[IP], "tos", 0))
    out.append(("cleared CE", "ecn", cleared))
    win = list(frames)
    win[t1] = rebuild(frames[t1], lambda k: setattr(k[TCP], "window", 7))
    out.append(("changed window", "window", win))
    psh = list(frames)
    psh[t1] = rebuild(frames[t1], lambda k: setattr(k[TCP], "flags", "PA"))
    out.append(("invented PSH", "flags", psh))
    vx = index_of(frames, is_vx6)
    zero = list(frames)
    zero[vx] = rebuild(frames[vx], lambda k: setattr(k[UDP], "chksum", 0))
    zero[vx] = _zero_outer_udp_csum(frames[vx])
    out.append(("VXLAN6 outer UDP checksum 0", "frame", zero))
    g = index_of(frames, lambda f: is_frag(f) and f.ipid == 777, 1)
    whole = list(frames)
    whole[g] = rebuild(frames[g], lambda k: setattr(k[IP], "tos", 0x20))
    out.append(("fragment DSCP changed", "tos", whole))
    ov = [k for k, r in enumerate(frames) if fr.parse(r).ipid == 888 and fr.parse(r).is_fragment]
    moved = list(frames)
    moved[ov[1]], moved[ov[2]] = moved[ov[2]], moved[ov[1]]
    out.append(("overlapping fragments swapped", "order", moved))
    junk = next(k for k, r in enumerate(frames) if fr.parse(r).opaque == "ethertype 0x0806")
    changed = list(frames)
    changed[junk] = frames[junk][:-1] + bytes([frames[junk][-1] ^ 1])
    out.append(("opaque frame changed", "opaque", changed))
    return out


def _zero_outer_udp_csum(raw):
    """VXLAN over IPv6: outer UDP checksum field (Ethernet 14 + IPv6 40 + 6) = 0."""
    b = bytearray(raw)
    b[14 + 40 + 6:14 + 40 + 8] = b"\0\0"
    return bytes(b)


def main():
    rng = random.Random("selftest/%d" % SEED)
    frames = base_stream(rng)
    failures = []
    rep = check.check(frames, frames)
    if not rep.ok():
        failures.append("identity output reported:\n" + rep.text())
    # Faithful GRO of a pair: merged (oversize) is wrong, but the same pair
    # merged and cut back into the original segments is the input again.
    for name, heading, doctored in faults(frames):
        rep = check.check(frames, doctored)
        if heading not in rep.kinds():
            failures.append("%s: expected a '%s' violation, got:\n%s" % (
                name, heading, rep.text() or "(nothing)"))
        else:
            print("%-28s -> %s" % (name, rep.text().splitlines()[1].strip()))
    # check_unchanged (LIST, MERGE linked for want of TSO): the input passes,
    # a merged or a rewritten (valid, but not the same) frame does not.
    if not check.check_unchanged(frames, frames).ok():
        failures.append("identity output reported by check_unchanged:\n" +
                        check.check_unchanged(frames, frames).text())
    i, j = index_of(frames, is_tcp4), index_of(frames, is_tcp4, 1)
    merged = list(frames)
    merged[i] = merged_pair(frames, i, j)
    del merged[j]
    rewritten = list(frames)
    rewritten[i] = rebuild(frames[i], lambda k: setattr(k[IP], "id", (k[IP].id + 1) & 0xffff))
    for name, doctored in (("linked pair merged", merged), ("linked frame rewritten", rewritten)):
        rep = check.check_unchanged(frames, doctored)
        if "unchanged" not in rep.kinds():
            failures.append("%s: expected an 'unchanged' violation, got:\n%s" % (
                name, rep.text() or "(nothing)"))
        else:
            print("%-28s -> %s" % (name, rep.text().splitlines()[1].strip()))
    if failures:
        print("FAIL (seed %d):\n%s" % (SEED, "\n".join(failures)))
        return 1
    print("PASS: the checker reports every doctored fault (seed %d)" % SEED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
