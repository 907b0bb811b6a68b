"""Seeded adversarial streams for grod, one per item of issue #11 plus a
mixed well-formed one. STREAMS[name](rng) -> list of frames (bytes).
The same seed gives the same frames."""
import random

import packets as p
from packets import Flow


def interleave(rng, runs):
    """Merges lists of frames at random, keeping each list's own order."""
    runs = [list(r) for r in runs if r]
    pos = [0] * len(runs)
    out = []
    live = list(range(len(runs)))
    while live:
        k = rng.choice(live)
        take = rng.randint(1, 4)
        out += runs[k][pos[k]:pos[k] + take]
        pos[k] += take
        if pos[k] >= len(runs[k]):
            live.remove(k)
    return out


def tcp_train(rng, flow, nsegs, mss, **kw):
    seq = rng.randrange(1 << 32)
    data = rand_bytes(rng, nsegs * mss)
    ipid = rng.randrange(1 << 16)
    return [p.tcp(flow, seq + i * mss, data[i * mss:(i + 1) * mss], ipid=ipid + i, **kw)
            for i in range(nsegs)]


def rand_bytes(rng, n):
    return rng.getrandbits(8 * n).to_bytes(n, "big") if n else b""


def fragments(rng, flow, ipid, payload, piece, tos=0, csum=None):
    """A UDP datagram cut into IPv4 fragments of `piece` bytes (x8)."""
    l4 = p.udp_l4_bytes(flow, payload, csum)
    out = []
    for off in range(0, len(l4), piece):
        more = off + piece < len(l4)
        out.append((off, l4[off:off + piece], more))
    return [p.ipv4_fragment(flow, ipid, off, d, more, tos) for off, d, more in out], out


def v4(i, net=1):
    return "10.%d.%d.%d" % (net, (i >> 8) & 255, i & 255 or 1)


def mixed(rng):
    """Well-formed TCP4/TCP6/UDP4/UDP6/VXLAN traffic, interleaved, some VLANs."""
    runs = []
    for i in range(6):
        f = Flow(4, v4(i + 1), "10.200.0.1", 30000 + i, 80, vlan=rng.choice([None, 10]))
        runs.append(tcp_train(rng, f, rng.randint(1, 70), 1448))
    for i in range(3):
        f = Flow(6, "2001:db8::%x" % (i + 1), "2001:db8:ff::1", 31000 + i, 443)
        runs.append(tcp_train(rng, f, rng.randint(1, 40), 1428))
    for i in range(3):
        f = Flow(4, v4(i + 1, 2), "10.201.0.1", 32000 + i, 4433)
        runs.append([p.udp(f, rand_bytes(rng, 1200), ipid=k) for k in range(rng.randint(1, 40))])
        f6 = Flow(6, "2001:db8::1:%x" % (i + 1), "2001:db8:ff::2", 33000 + i, 4433)
        runs.append([p.udp(f6, rand_bytes(rng, 1000)) for _ in range(rng.randint(1, 20))])
    for i in range(2):
        f = Flow(4, v4(i + 1, 3), "10.202.0.1", 34000 + i, 80,
                 vxlan=(4, "192.168.0.%d" % (i + 1), "192.168.0.100", 42))
        runs.append(tcp_train(rng, f, rng.randint(2, 30), 1398))
    return interleave(rng, runs)


def mixed_options(rng):
    """Well-formed traffic with what Linux and networks add: TCP timestamps
    (changing per segment), IPv4 options, QinQ, ECT/CE marks on TCP, VXLAN
    over IPv4 with inner TCP6 and inner UDP."""
    runs = []
    for i in range(4):
        f = Flow(4 if i % 2 else 6, v4(i + 1, 18) if i % 2 else "2001:db8::12:%x" % (i + 1),
                 "10.217.0.1" if i % 2 else "2001:db8:ff::12", 48000 + i, 80,
                 vlan=[None, 30, (100, 31), None][i])
        seq, tsval, run = rng.randrange(1 << 32), rng.randrange(1 << 31), []
        for k in range(rng.randint(10, 50)):
            if rng.random() < 0.3:
                tsval += 1
            opts = b"\x01\x01\x08\x0a" + tsval.to_bytes(4, "big") + (77).to_bytes(4, "big")
            tos = 3 if rng.random() < 0.1 else 2
            run.append(p.tcp(f, seq, rand_bytes(rng, 1388), opts=opts, tos=tos, ipid=k))
            seq += 1388
        runs.append(run)
    f = Flow(4, v4(9, 18), "10.217.0.2", 48010, 80)
    seq, run = rng.randrange(1 << 32), []
    for k in range(30):  # IPv4 options: record route (NOP-padded)
        run.append(p.tcp(f, seq, rand_bytes(rng, 1400), ipopts=b"\x07\x07\x04" + bytes(4) + b"\x01",
                         ipid=k))
        seq += 1400
    runs.append(run)
    f = Flow(6, "2001:db8::13:1", "2001:db8:ff::13", 48020, 80,
             vxlan=(4, "192.168.1.1", "192.168.1.100", 99))
    runs.append(tcp_train(rng, f, 20, 1300))
    f = Flow(4, v4(1, 19), "10.218.0.1", 48030, 4433, vxlan=(4, "192.168.1.2", "192.168.1.100", 99))
    runs.append([p.udp(f, rand_bytes(rng, 1200), ipid=k) for k in range(20)])
    return interleave(rng, runs)


def frag_many(rng):
    """#11.1: 200 datagrams of 151 fragments each (small pieces), some
    flows' fragments out of order, duplicated or never completed."""
    out_runs = []
    for d in range(200):
        f = Flow(4, v4(d % 7 + 1, 4), "10.203.0.1", 35000 + d % 7, 5000)
        frs, _ = fragments(rng, f, 1000 + d, rand_bytes(rng, 151 * 8 - 8), 8)
        assert len(frs) == 151
        kind = rng.random()
        if kind < 0.1:
            rng.shuffle(frs)  # out of order
        elif kind < 0.15:
            frs.insert(rng.randrange(len(frs)), frs[rng.randrange(len(frs))])  # duplicate
        elif kind < 0.2:
            del frs[rng.randrange(len(frs))]  # never completed
        out_runs.append(frs)
    return interleave(rng, [sum(out_runs[k::7], []) for k in range(7)])


def frag_mtu(rng):
    """#11.2: 4000-byte UDP datagrams fragmented for a 1500 MTU (their
    reassembly must not leave as one 4042-byte frame), TCP with MSS 1 and
    64-segment trains."""
    runs = []
    for i in range(3):
        f = Flow(4, v4(i + 1, 5), "10.204.0.1", 36000 + i, 6000)
        run = []
        for k in range(rng.randint(2, 6)):
            run += fragments(rng, f, 2000 + 10 * i + k, rand_bytes(rng, 4000), 1480)[0]
        runs.append(run)
    for i in range(3):
        f = Flow(4, v4(i + 1, 6), "10.205.0.1", 37000 + i, 80)
        runs.append(tcp_train(rng, f, 150, 1))
    for i in range(2):
        f = Flow(6, "2001:db8::6:%x" % (i + 1), "2001:db8:ff::6", 38000 + i, 80)
        runs.append(tcp_train(rng, f, 64 * 3, 1428))
    return interleave(rng, runs)


def vxlan6(rng):
    """#11.3: VXLAN over IPv6 (outer UDP checksum must stay nonzero and
    correct), inner TCP4 and TCP6 with short segments and PSH, inner UDP."""
    runs = []
    for i in range(4):
        ver = 4 if i % 2 == 0 else 6
        src, dst = (v4(i + 1, 7), "10.206.0.1") if ver == 4 else ("2001:db8::7:%x" % (i + 1), "2001:db8:ff::7")
        f = Flow(ver, src, dst, 39000 + i, 80, vxlan=(6, "fd00::%x" % (i + 1), "fd00::100", 77))
        seq, run = rng.randrange(1 << 32), []
        for k in range(rng.randint(10, 40)):
            size = 1300 if rng.random() < 0.8 else rng.randrange(1, 1300)
            run.append(p.tcp(f, seq, rand_bytes(rng, size), flags="PA" if size < 1300 else "A"))
            seq += size
        runs.append(run)
    f = Flow(4, v4(9, 7), "10.206.0.2", 39010, 4433, vxlan=(6, "fd00::9", "fd00::100", 78))
    runs.append([p.udp(f, rand_bytes(rng, 1000), ipid=k) for k in range(20)])
    return interleave(rng, runs)


def udp_then_frags(rng):
    """#11.4: one UDP 5-tuple: a small datagram, then fragmented ones; IPv6
    pass-through packets (hop-by-hop, fragment header) amid a held flow."""
    f = Flow(4, v4(1, 8), "10.207.0.1", 40000, 7000)
    run = []
    for k in range(6):
        run.append(p.udp(f, rand_bytes(rng, rng.randint(20, 200)), ipid=3000 + 2 * k))
        run += fragments(rng, f, 3001 + 2 * k, rand_bytes(rng, 2500), 1480)[0]
    f6 = Flow(6, "2001:db8::8:1", "2001:db8:ff::8", 40001, 80)
    seq = rng.randrange(1 << 31)
    run6 = []
    for k in range(40):
        if k % 7 == 3:
            run6.append(p.ipv6_hop_by_hop_tcp(f6, seq, rand_bytes(rng, 100)))
            seq += 100
        run6.append(p.tcp(f6, seq, rand_bytes(rng, 1000)))
        seq += 1000
    u6 = Flow(6, "2001:db8::8:2", "2001:db8:ff::8", 40002, 7000)
    runu6 = []
    for k in range(30):
        runu6.append(p.udp(u6, rand_bytes(rng, 900)) if k % 5 else p.ipv6_fragment_udp(u6, k, rand_bytes(rng, 900)))
    return run + run6 + runu6


def ce_fragment(rng):
    """#11.5: CE on a non-first fragment (others ECT(0))."""
    runs = []
    for i in range(4):
        f = Flow(4, v4(i + 1, 9), "10.208.0.1", 41000 + i, 7001)
        run = []
        for k in range(5):
            frs, pieces = fragments(rng, f, 4000 + 10 * i + k, rand_bytes(rng, 3000), 1480)
            ce_at = rng.randrange(1, len(pieces))
            run += [p.ipv4_fragment(f, 4000 + 10 * i + k, off, d, more, tos=3 if j == ce_at else 2)
                    for j, (off, d, more) in enumerate(pieces)]
        runs.append(run)
    return interleave(rng, runs)


def window_change(rng):
    """#11.6: TCP segments whose advertised window changes mid-train."""
    runs = []
    for i in range(4):
        f = Flow(4 if i % 2 else 6, v4(i + 1, 10) if i % 2 else "2001:db8::a:%x" % (i + 1),
                 "10.209.0.1" if i % 2 else "2001:db8:ff::a", 42000 + i, 80)
        seq, run, win = rng.randrange(1 << 32), [], 1000
        for k in range(40):
            if rng.random() < 0.2:
                win = rng.randrange(100, 65535)
            run.append(p.tcp(f, seq, rand_bytes(rng, 1400), window=win, ipid=k))
            seq += 1400
        runs.append(run)
    return interleave(rng, runs)


def overlap_frags(rng):
    """#11.7: overlapping fragment runs (a later fragment rewrites bytes
    of earlier ones), duplicates, gaps filled late."""
    runs = []
    for i in range(5):
        f = Flow(4, v4(i + 1, 11), "10.210.0.1", 43000 + i, 7002)
        run = []
        for k in range(8):
            ipid = 5000 + 20 * i + k
            l4 = p.udp_l4_bytes(f, rand_bytes(rng, 1600))
            pieces = [(o, l4[o:o + 400], o + 400 < len(l4)) for o in range(0, len(l4), 400)]
            # An overlapping piece straddling two others.
            o = 8 * rng.randrange(1, (len(l4) - 400) // 8)
            pieces.insert(rng.randrange(len(pieces)), (o, l4[o:o + 400], True))
            if rng.random() < 0.5:
                pieces.reverse()
            run += [p.ipv4_fragment(f, ipid, o, d, m) for o, d, m in pieces]
        runs.append(run)
    return interleave(rng, runs)


def colliding_flows(rng):
    """#11.8: many flows at once (beyond the flow table's easy cases)."""
    runs = []
    for i in range(3000):
        f = Flow(4, v4(i + 1, 12), "10.211.0.1", 1024 + rng.randrange(60000), 80)
        runs.append(tcp_train(rng, f, rng.randint(1, 4), 1448))
    for i in range(500):
        f = Flow(4, v4(i + 1, 13), "10.212.0.1", 1024 + i, 53)
        runs.append([p.udp(f, rand_bytes(rng, 512), ipid=k) for k in range(rng.randint(1, 3))])
    return interleave(rng, runs)


def udp_csum_zero(rng):
    """#11.9: IPv4 UDP with checksum 0, whole and fragmented."""
    runs = []
    for i in range(4):
        f = Flow(4, v4(i + 1, 14), "10.213.0.1", 44000 + i, 7003)
        run = []
        for k in range(20):
            if k % 4 == 3:
                run += fragments(rng, f, 6000 + 40 * i + k, rand_bytes(rng, 3000), 1480, csum=0)[0]
            else:
                run.append(p.udp(f, rand_bytes(rng, 1200), ipid=6000 + 40 * i + k, csum=0))
        runs.append(run)
    return interleave(rng, runs)


def psh_mid_flow(rng):
    """#11.10: PSH on segments in the middle of trains."""
    runs = []
    for i in range(4):
        f = Flow(4, v4(i + 1, 15), "10.214.0.1", 45000 + i, 80)
        seq, run = rng.randrange(1 << 32), []
        for k in range(50):
            run.append(p.tcp(f, seq, rand_bytes(rng, 1448), flags="PA" if rng.random() < 0.15 else "A",
                             ipid=k))
            seq += 1448
        runs.append(run)
    return interleave(rng, runs)


def malformed(rng):
    """Frames GRO must pass byte-identical, amid a TCP flow they resemble;
    plus a TCP segment with a corrupted checksum mid-flow."""
    f = Flow(4, v4(1, 16), "10.215.0.1", 46000, 80)
    train = tcp_train(rng, f, 30, 1448)
    bad = bytearray(train[10])
    bad[-1] ^= 0xFF  # payload byte changed: TCP checksum now wrong
    train[10] = bytes(bad)
    junk = []
    for k in range(20):
        base = bytearray(train[rng.randrange(len(train))])
        kind = k % 6
        if kind == 0:
            junk.append(bytes(base[:rng.randrange(14, 60)]))  # truncated
        elif kind == 1:
            base[14] = 0x43  # IHL 3
            junk.append(bytes(base))
        elif kind == 2:
            junk.append(p.arp())
        elif kind == 3:
            junk.append(p.unknown_ethertype(rng))
        elif kind == 4:
            junk.append(p.garbage(rng))
        else:
            junk.append(p.ipv6_hop_by_hop_tcp(Flow(6, "2001:db8::10:1", "2001:db8:ff::10", 46001, 80),
                                              k, rand_bytes(rng, 64)))
    return interleave(rng, [train, junk])


def tcp_edges(rng):
    """TCP the rules treat specially, mid-flow: SYN with data, FIN, RST,
    URG, pure ACKs, a TTL change, DF=0 with IP IDs that jump, frames padded
    to Ethernet's 60-byte minimum, 1-byte segments."""
    runs = []
    for i in range(6):
        f = Flow(4 if i % 3 else 6, v4(i + 1, 20) if i % 3 else "2001:db8::14:%x" % (i + 1),
                 "10.219.0.1" if i % 3 else "2001:db8:ff::14", 49000 + i, 80)
        seq, ipid, run = rng.randrange(1 << 32), rng.randrange(1 << 16), []
        run.append(p.tcp(f, seq, rand_bytes(rng, 100), flags="SA" if i % 2 else "S"))
        seq += 101
        for k in range(60):
            r = rng.random()
            full = 1448 if f.ver == 4 else 1428
            size = rng.choice([1, 1, 6, 1000, full, full])
            data = rand_bytes(rng, size)
            df = i % 2 == 0
            ipid += 1 if df or rng.random() < 0.8 else rng.randrange(2, 50)
            flags = "A"
            if r < 0.05:
                flags = "UA"
            elif r < 0.1:
                run.append(p.tcp(f, seq, b"", flags="A", ack=1000 + k, ipid=ipid))  # pure ACK
                continue
            frame = p.tcp(f, seq, data, flags=flags, ipid=ipid, df=df, ack=1000 + k // 10)
            if r > 0.95 and f.ver == 4:
                b = bytearray(frame)
                b[22] = 63  # TTL 63 instead of 64; fix the header checksum
                b[24:26] = b"\0\0"
                s = sum(int.from_bytes(b[14 + j:16 + j], "big") for j in range(0, 20, 2))
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                b[24:26] = (~s & 0xFFFF).to_bytes(2, "big")
                frame = bytes(b)
            if len(frame) < 60:
                frame += bytes(60 - len(frame))  # Ethernet padding, as on a wire
            run.append(frame)
            seq += size
        run.append(p.tcp(f, seq, rand_bytes(rng, 10), flags="FA" if i % 2 else "RA"))
        runs.append(run)
    return interleave(rng, runs)


def tcp_disorder(rng):
    """TCP segments swapped with a neighbour, retransmitted, a gap filled
    late: the order a receiver sees must be the wire's."""
    runs = []
    for i in range(4):
        f = Flow(4 if i % 2 else 6, v4(i + 1, 17) if i % 2 else "2001:db8::11:%x" % (i + 1),
                 "10.216.0.1" if i % 2 else "2001:db8:ff::11", 47000 + i, 80)
        train = tcp_train(rng, f, 40, 1200)
        for _ in range(4):
            k = rng.randrange(len(train) - 1)
            train[k], train[k + 1] = train[k + 1], train[k]
        for _ in range(2):
            train.insert(rng.randrange(len(train)), train[rng.randrange(len(train))])
        late = train.pop(rng.randrange(5, 15))
        train.insert(rng.randrange(20, len(train)), late)
        runs.append(train)
    return interleave(rng, runs)


STREAMS = {
    "mixed": mixed,
    "mixed_options": mixed_options,
    "frag_many": frag_many,
    "frag_mtu": frag_mtu,
    "vxlan6": vxlan6,
    "udp_then_frags": udp_then_frags,
    "ce_fragment": ce_fragment,
    "window_change": window_change,
    "overlap_frags": overlap_frags,
    "colliding_flows": colliding_flows,
    "udp_csum_zero": udp_csum_zero,
    "psh_mid_flow": psh_mid_flow,
    "malformed": malformed,
    "tcp_disorder": tcp_disorder,
    "tcp_edges": tcp_edges,
}


def generate(name, seed):
    return STREAMS[name](random.Random("%s/%d" % (name, seed)))
