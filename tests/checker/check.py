#!/usr/bin/python3
"""Independent output checker: grod's input capture vs its output capture.

  check.py IN.pcap OUT.pcap [--mtu 1500] [--vxlan-port 4789]

Exit 0 if the output is a faithful GRO of the input, 1 with one line per
violation otherwise. What is checked (per 5-tuple, never per engine key):
  frames     every output frame fits the port (<= MTU + Ethernet + VLAN tags);
             IPv4 header and TCP/UDP checksums are valid (IPv6 UDP and a
             VXLAN-over-IPv6 outer UDP checksum nonzero), unless the frame is
             byte-identical to an input frame that had them bad;
  opaque     malformed / bad-checksum / IPv6-extension / non-IP input frames
             leave byte-identical, each exactly once;
  tcp        per direction, the payload bytes by sequence number: each input
             byte exactly once, same content; pure ACKs/control segments
             conserved; window, ACK number and SYN/RST/URG/ECE/CWR/ACK flags
             of every output segment equal those of the input segments it
             covers; PSH and FIN at the same stream positions; CE kept on
             every byte that had it (and not invented); order kept;
  udp        per 5-tuple, the datagram payloads (fragments reassembled) in
             completion order, each exactly once; CE, TOS kept; a checksum
             not dropped;
  fragments  IPv4 fragment sets that do not reassemble cleanly (overlap,
             duplicate, never completed): the same bytes at the same offsets,
             as often as in the input; CE kept on them; fragments whose
             bytes overlap leave in their input order.
Order: an output item may not follow one whose input bytes all arrived after
its own (input arrival index), within its 5-tuple (or fragment set).

check_unchanged() is stricter, for output that must be the input frames
themselves (LIST, or MERGE linked towards a port without TSO): every input
frame that is not an IPv4 fragment leaves byte-identical, exactly as often.
"""
import argparse
import bisect
import collections
import sys

import frames as fr
import model
import pcapio

SKIP_FLAGS = fr.TCP_PSH | fr.TCP_FIN
MAX_LINES = 12


class Report:
    def __init__(self):
        self.lines = collections.defaultdict(list)

    def add(self, kind, msg):
        self.lines[kind].append(msg)

    def ok(self):
        return not self.lines

    def kinds(self):
        return set(self.lines)

    def text(self):
        out = []
        for kind in sorted(self.lines):
            msgs = self.lines[kind]
            out.append("%s: %d violation(s)" % (kind, len(msgs)))
            out += ["  " + m for m in msgs[:MAX_LINES]]
            if len(msgs) > MAX_LINES:
                out.append("  ... %d more" % (len(msgs) - MAX_LINES))
        return "\n".join(out)


def flow_name(flow):
    vlans, outer, ver, src, dst, proto, sport, dport = flow
    import ipaddress
    a = lambda b: str(ipaddress.ip_address(bytes(b)))
    name = "%s %s:%d > %s:%d" % ({6: "tcp", 17: "udp"}.get(proto, "ip%d" % proto),
                                 a(src), sport, a(dst), dport)
    if vlans:
        name += " vlan %s" % "/".join(map(str, vlans))
    if outer:
        name += " in vxlan vni %d (%s > %s)" % (outer[5], a(outer[1]), a(outer[2]))
    return name


def check(in_frames, out_frames, mtu=1500, vxlan_port=4789):
    rep = Report()
    cin = model.Capture(in_frames, vxlan_port)
    bases = {}
    cin.build(bases)
    cout = model.Capture(out_frames, vxlan_port).build(bases, set(cin.unclean))
    check_frames(cin, cout, mtu, rep)
    check_opaque(cin, cout, rep)
    for flow in sorted(set(cin.tcp) | set(cout.tcp), key=repr):
        check_tcp(flow, cin.tcp.get(flow, []), cout.tcp.get(flow, []), cin, cout, rep)
    for flow in sorted(set(cin.udp) | set(cout.udp), key=repr):
        check_udp(flow, cin.udp.get(flow, []), cout.udp.get(flow, []), cin, cout, rep)
    for g in sorted(set(cin.unclean) | set(cout.unclean), key=repr):
        check_fragments(g, cin.unclean.get(g, []), cout.unclean.get(g, []), rep)
    return rep


def check_unchanged(in_frames, out_frames, vxlan_port=4789):
    """Every input frame other than an IPv4 fragment (grod reassembles those
    in every mode) among the output byte for byte, as many times; and, if
    the input has no IPv4 fragment, no output frame that is not an input
    frame. Order is check()'s business."""
    rep = Report()
    frag = lambda raw: fr.parse(raw, vxlan_port).is_fragment

    def name(raw):
        flow = fr.parse(raw, vxlan_port).flow
        return flow_name(flow) if flow else "a frame of %d bytes" % len(raw)

    want = collections.Counter(bytes(f) for f in in_frames if not frag(f))
    got = collections.Counter(bytes(f) for f in out_frames)
    missing = want - got
    if missing:
        rep.add("unchanged", "%d input frame(s) (not IPv4 fragments) did not leave "
                "byte-identical, e.g. %s" % (sum(missing.values()), name(next(iter(missing)))))
    if not any(frag(f) for f in in_frames):
        extra = got - collections.Counter(bytes(f) for f in in_frames)
        if extra:
            rep.add("unchanged", "%d output frame(s) are no input frame (rewritten, merged "
                    "or cut), e.g. %s" % (sum(extra.values()), name(next(iter(extra)))))
    return rep


def check_frames(cin, cout, mtu, rep):
    in_raw = collections.Counter(cin.raw)
    for i, f in enumerate(cout.frames):
        limit = mtu + 14 + 4 * f.l2_tags
        if len(f.raw) > limit:
            what = "IPv4 datagram/fragment" if f.version == 4 and f.proto == fr.PROTO_UDP else "frame"
            rep.add("mtu", "output frame #%d is %d bytes > %d (MTU %d): %s %s" % (
                i, len(f.raw), limit, mtu, what,
                flow_name(f.flow) if f.flow else ""))
        if f.opaque and f.raw not in in_raw:
            rep.add("frame", "output frame #%d (%d bytes) is not a valid packet (%s) "
                    "and is no input frame" % (i, len(f.raw), f.opaque))


def check_opaque(cin, cout, rep):
    for raw, idxs in cin.opaque.items():
        got = len(cout.opaque.get(raw, [])) + 0
        if got != len(idxs):
            f = cin.frames[idxs[0]]
            rep.add("opaque", "input frame #%d (%s, %d bytes) left %d time(s), expected %d "
                    "byte-identical" % (idxs[0], f.opaque, len(raw), got, len(idxs)))


def item_arrivals(kind_queue):
    """Maps equal things to their input occurrences, first come first."""
    return {k: collections.deque(v) for k, v in kind_queue.items()}


def check_order(name, items, rep, kind="order"):
    """items: (output index, amin, amax, label) in output order."""
    top, top_item = -1, None
    for it in items:
        _, amin, amax, _ = it
        if amin is None:
            continue
        if amax < top:
            rep.add(kind, "%s: output frame #%d (%s, input #%d..#%d) left after output frame "
                    "#%d (%s, input #%d..)" % (name, it[0], it[3], amin, amax, top_item[0],
                                               top_item[3], top))
        if amin > top:
            top, top_item = amin, it


def opaque_items(flow, cin, cout):
    """Order items for opaque frames that belong to `flow`."""
    queues = collections.defaultdict(collections.deque)
    for i in cin.opaque_by_flow.get(flow, []):
        queues[cin.frames[i].raw].append(i)
    items = []
    for o in cout.opaque_by_flow.get(flow, []):
        q = queues.get(cout.frames[o].raw)
        a = q.popleft() if q else None
        items.append((o, a, a, "pass-through"))
    return items


def coverage_diff(ins, outs):
    """First range whose multiplicity differs: ((a, b), n_in, n_out) or None."""
    din, dout = collections.Counter(), collections.Counter()
    for s, e in ins:
        din[s] += 1
        din[e] -= 1
    for s, e in outs:
        dout[s] += 1
        dout[e] -= 1
    pts = sorted(set(din) | set(dout))
    cur_in = cur_out = 0
    for k, p in enumerate(pts):
        cur_in += din[p]
        cur_out += dout[p]
        if cur_in != cur_out:
            return (p, pts[k + 1] if k + 1 < len(pts) else p), cur_in, cur_out
    return None


def check_tcp(flow, ins, outs, cin, cout, rep):
    name = flow_name(flow)
    if not ins:
        rep.add("tcp", "%s: %d output segment(s) of a flow not in the input" % (name, len(outs)))
        return
    data_in = [s for s in ins if s.payload]
    data_out = [s for s in outs if s.payload]
    diff = coverage_diff([(s.seq, s.end) for s in data_in], [(s.seq, s.end) for s in data_out])
    if diff:
        (a, b), n_in, n_out = diff
        rep.add("tcp", "%s: bytes [%d, %d) are in the input %d time(s), in the output %d"
                % (name, a, b, n_in, n_out))
    lo = min(s.seq for s in data_in) if data_in else 0
    hi = max(s.end for s in data_in) if data_in else 0
    image, conflict = bytearray(hi - lo), False
    written = bytearray(hi - lo)
    for s in data_in:
        a = s.seq - lo
        if any(written[a:a + len(s.payload)]) and bytes(image[a:a + len(s.payload)]) != s.payload:
            conflict = True
        image[a:a + len(s.payload)] = s.payload
        written[a:a + len(s.payload)] = b"\1" * len(s.payload)
    starts = sorted((s.seq, k) for k, s in enumerate(data_in))
    longest = max((len(s.payload) for s in data_in), default=0)
    ce_ranges = [(s.seq, s.end) for s in data_in if s.ce]
    items = []
    for s in data_out:
        if not conflict and lo <= s.seq and s.end <= hi and bytes(image[s.seq - lo:s.end - lo]) != s.payload:
            rep.add("tcp", "%s: output frame #%d carries other bytes than the input at [%d, %d)"
                    % (name, s.idx, s.seq, s.end))
        k0 = bisect.bisect_left(starts, (s.seq - longest, -1))
        k1 = bisect.bisect_left(starts, (s.end, -1))
        covered = [data_in[j] for _, j in starts[k0:k1] if data_in[j].end > s.seq]
        if not covered:
            continue
        items.append((s.idx, min(c.idx for c in covered), max(c.idx for c in covered),
                      "seq %d..%d" % (s.seq, s.end)))
        for c in covered:
            if c.window != s.window:
                rep.add("window", "%s: output frame #%d (seq %d..%d) has window %d, input "
                        "frame #%d it carries had %d" % (name, s.idx, s.seq, s.end, s.window,
                                                         c.idx, c.window))
                break
        for c in covered:
            if c.ack != s.ack or (c.flags & ~SKIP_FLAGS) != (s.flags & ~SKIP_FLAGS):
                rep.add("flags", "%s: output frame #%d (seq %d..%d) ack %d flags 0x%02x, input "
                        "frame #%d had ack %d flags 0x%02x" % (name, s.idx, s.seq, s.end, s.ack,
                                                            s.flags, c.idx, c.ack, c.flags))
                break
        for c in covered:
            if (c.tos & ~3) != (s.tos & ~3):
                rep.add("tos", "%s: output frame #%d DSCP 0x%02x, input frame #%d 0x%02x"
                        % (name, s.idx, s.tos >> 2, c.idx, c.tos >> 2))
                break
        hits = [r for r in ce_ranges if r[0] < s.end and r[1] > s.seq]
        if hits and not s.ce:
            rep.add("ecn", "%s: output frame #%d (seq %d..%d) lost CE that input bytes [%d, %d) "
                    "had" % (name, s.idx, s.seq, s.end, max(hits[0][0], s.seq),
                             min(hits[0][1], s.end)))
        if s.ce and not hits:
            rep.add("ecn", "%s: output frame #%d (seq %d..%d) has CE no input byte had"
                    % (name, s.idx, s.seq, s.end))
    for flag, label in ((fr.TCP_PSH, "PSH"), (fr.TCP_FIN, "FIN")):
        want = collections.Counter(s.end for s in ins if s.flags & flag)
        got = collections.Counter(s.end for s in outs if s.flags & flag)
        if want != got:
            rep.add("flags", "%s: %s at stream positions %s in the input, %s in the output"
                    % (name, label, sorted(want.elements())[:8], sorted(got.elements())[:8]))
    ctl = lambda segs: collections.Counter((s.seq, s.ack, s.flags, s.window, s.tos)
                                           for s in segs if not s.payload)
    cin_ctl, cout_ctl = ctl(ins), ctl(outs)
    if cin_ctl != cout_ctl:
        rep.add("tcp", "%s: segments without payload differ: missing %s, extra %s" % (
            name, list((cin_ctl - cout_ctl).elements())[:4], list((cout_ctl - cin_ctl).elements())[:4]))
    ctl_q = collections.defaultdict(collections.deque)
    for s in ins:
        if not s.payload:
            ctl_q[(s.seq, s.ack, s.flags, s.window)].append(s.idx)
    for s in outs:
        if not s.payload:
            q = ctl_q.get((s.seq, s.ack, s.flags, s.window))
            a = q.popleft() if q else None
            items.append((s.idx, a, a, "no payload"))
    items += opaque_items(flow, cin, cout)
    items.sort()
    check_order(name, items, rep)


def check_udp(flow, ins, outs, cin, cout, rep):
    name = flow_name(flow)
    want = collections.Counter(d.payload for d in ins)
    got = collections.Counter(d.payload for d in outs)
    if want != got:
        missing = list((want - got).elements())
        extra = list((got - want).elements())
        msg = "%s: %d datagram(s) missing" % (name, len(missing))
        if missing:
            msg += " (sizes %s)" % sorted(len(p) for p in missing)[:8]
        msg += ", %d unexpected" % len(extra)
        if extra:
            msg += " (sizes %s; e.g. output frame #%d)" % (
                sorted(len(p) for p in extra)[:8],
                next(d.first for d in outs if d.payload in set(extra)))
        rep.add("udp", msg)
    queues = collections.defaultdict(collections.deque)
    for d in ins:
        queues[d.payload].append(d)
    items = []
    for d in outs:
        q = queues.get(d.payload)
        src = q.popleft() if q else None
        if src is None:
            continue
        items.append((d.first, src.first, src.last, "datagram %d bytes" % len(d.payload)))
        if d.ce != src.ce:
            rep.add("ecn", "%s: output datagram (frame #%d) CE=%s, its input (frames #%d..#%d) "
                    "CE=%s" % (name, d.first, d.ce, src.first, src.last, src.ce))
        if d.dscp != src.dscp:
            rep.add("tos", "%s: output datagram (frame #%d) DSCP %s, its input %s" % (
                name, d.first, sorted(t >> 2 for t in d.dscp), sorted(t >> 2 for t in src.dscp)))
        if isinstance(d.csum, tuple) and not isinstance(src.csum, tuple):
            rep.add("checksum", "%s: reassembled output datagram (frame #%d) has a bad UDP "
                    "checksum; the input's was good" % (name, d.first))
        if d.csum == 0 and src.csum != 0:
            rep.add("checksum", "%s: output frame #%d dropped the UDP checksum" % (name, d.first))
    items += opaque_items(flow, cin, cout)
    items.sort()
    check_order(name, items, rep)


def check_fragments(g, ins, outs, rep):
    """Fragment sets that did not reassemble cleanly: bytes at offsets."""
    vlans, outer, src, dst, proto, ipid = g
    name = "IPv4 fragments %s id %d" % (flow_name((vlans, outer, 4, src, dst, proto, 0, 0)), ipid)

    def spans(members):
        out = []
        for i, f in members:
            off = f.frag_off if f.is_fragment else 0
            data = f.l3_payload if f.is_fragment else _udp_l3(f)
            out.append((i, off, data, f))
        return out

    si, so = spans(ins), spans(outs)
    bytes_in = collections.Counter((off + k, b) for _, off, d, _ in si for k, b in enumerate(d))
    bytes_out = collections.Counter((off + k, b) for _, off, d, _ in so for k, b in enumerate(d))
    if bytes_in != bytes_out:
        lost = sorted({o for o, _ in (bytes_in - bytes_out)})
        extra = sorted({o for o, _ in (bytes_out - bytes_in)})
        rep.add("fragments", "%s: bytes differ: %d offset(s) missing (from %s), %d extra (from %s)"
                % (name, len(lost), lost[:1], len(extra), extra[:1]))
    # Which input fragments each output frame carries (contained, same bytes).
    si_by_idx = {i: fi for i, _, _, fi in si}
    carried = []
    for o, off, d, f in so:
        arr = [i for i, ioff, idata, _ in si
               if off <= ioff and ioff + len(idata) <= off + len(d)
               and d[ioff - off:ioff - off + len(idata)] == idata]
        carried.append((o, off, off + len(d), arr))
        dscp = {si_by_idx[i].tos & ~3 for i in arr}
        if dscp and dscp != {f.tos & ~3}:
            rep.add("tos", "%s: output frame #%d DSCP %d, its input fragments %s"
                    % (name, o, f.tos >> 2, sorted(t >> 2 for t in dscp)))
        ce_in = [i for i, ioff, idata, fi in si
                 if fi.ce and ioff < off + len(d) and ioff + len(idata) > off]
        if ce_in and not f.ce:
            rep.add("ecn", "%s: output frame #%d (offset %d+%d) lost CE of input frame #%d"
                    % (name, o, off, len(d), ce_in[0]))
    # Order matters between fragments whose bytes overlap (which copy comes
    # first decides what a receiver keeps); disjoint fragments of one
    # datagram may leave in any order, as a reassembled datagram would.
    carried.sort()
    for k, (o1, s1, e1, a1) in enumerate(carried):
        for o2, s2, e2, a2 in carried[k + 1:]:
            if a1 and a2 and s1 < e2 and s2 < e1 and max(a2) < min(a1):
                rep.add("order", "%s: output frame #%d (offset %d+%d, input #%d) left after "
                        "output frame #%d (offset %d+%d, input #%d) whose bytes it overlaps"
                        % (name, o2, s2, e2 - s2, max(a2), o1, s1, e1 - s1, min(a1)))


def _udp_l3(f):
    import struct
    return struct.pack("!HHHH", f.sport, f.dport, 8 + len(f.payload), f.l4_csum) + f.payload


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--mtu", type=int, default=1500)
    ap.add_argument("--vxlan-port", type=int, default=4789)
    args = ap.parse_args(argv)
    rep = check(pcapio.read(args.input), pcapio.read(args.output), args.mtu, args.vxlan_port)
    if rep.ok():
        print("check: output is faithful")
        return 0
    print(rep.text())
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
