"""What a capture carries, per 5-tuple, in the terms the checker compares.

Built the same way for grod's input and its output capture:
  * TCP: per direction 5-tuple, segments by relative sequence number;
  * UDP: per 5-tuple, datagrams (IPv4 fragment sets that reassemble cleanly
    become the datagram they carry);
  * IPv4 fragment sets that do not reassemble cleanly (overlap, duplicate,
    never completed): per (addresses, protocol, IP ID), the bytes at offsets;
  * opaque frames (malformed, bad checksum, IPv6 extension headers, unknown
    ethertype...): raw bytes, and their 5-tuple when one can be read.
A flow key is (VLAN TCIs, VXLAN outer tuple, IP version, src, dst, proto,
sport, dport): the order that matters is per 5-tuple, not per engine key.
"""
import collections

from frames import PROTO_TCP, PROTO_UDP, TCP_SYN, parse
import frames as fr


class Seg:
    """A TCP segment (payload may be empty)."""
    __slots__ = ("idx", "seq", "end", "payload", "flags", "window", "ack", "tos",
                 "ce", "frame")

    def __init__(self, idx, seq, f):
        self.idx, self.seq, self.payload = idx, seq, f.payload
        self.end = seq + len(f.payload)
        self.flags, self.window, self.ack = f.flags, f.window, f.ack
        self.tos, self.ce, self.frame = f.tos, f.ce, f


class Dgram:
    """A UDP datagram, whole or reassembled from IPv4 fragments."""
    __slots__ = ("first", "last", "payload", "csum", "ce", "dscp", "frames", "ipid")

    def __init__(self, first, last, payload, csum, ce, dscp, frames, ipid):
        self.first, self.last, self.payload, self.csum = first, last, payload, csum
        self.ce, self.frames, self.ipid = ce, frames, ipid
        self.dscp = dscp  # the TOS/traffic class values (ECN bits cleared) it came in


class Capture:
    def __init__(self, raw_frames, vxlan_port=4789):
        self.raw = raw_frames
        self.frames = [parse(r, vxlan_port) for r in raw_frames]
        self.tcp = collections.defaultdict(list)  # flow -> [Seg]
        self.udp = collections.defaultdict(list)  # flow -> [Dgram]
        self.frag_groups = collections.defaultdict(list)  # G -> [(idx, Frame)]
        self.unclean = {}  # G -> [(idx, Frame)] not reassembling cleanly
        self.opaque = collections.defaultdict(list)  # raw -> [idx]
        self.opaque_by_flow = collections.defaultdict(list)  # flow -> [idx]
        self.single_udp = []  # (idx, Frame) unfragmented, before grouping

    def build(self, tcp_bases, unclean_keys=()):
        """Sorts frames into the model. tcp_bases: flow -> ISN (filled from
        the input when empty); unclean_keys: fragment groups that were not
        clean in the input (their whole datagrams count as fragments)."""
        for i, f in enumerate(self.frames):
            if f.opaque:
                self.opaque[f.raw].append(i)
                if f.flow:
                    self.opaque_by_flow[f.flow].append(i)
            elif f.is_fragment:
                self.frag_groups[group_key(f)].append((i, f))
            elif f.proto == PROTO_TCP:
                base = tcp_bases.setdefault(
                    f.flow, (f.seq + (1 if f.flags & TCP_SYN else 0)) & 0xFFFFFFFF)
                rel = (f.seq + (1 if f.flags & TCP_SYN else 0) - base) & 0xFFFFFFFF
                if rel >= 1 << 31:
                    rel -= 1 << 32
                self.tcp[f.flow].append(Seg(i, rel, f))
            elif f.proto == PROTO_UDP:
                if f.version == 4 and group_key(f) in unclean_keys:
                    self.frag_groups[group_key(f)].append((i, f))
                else:
                    self.udp[f.flow].append(
                        Dgram(i, i, f.payload, f.l4_csum, f.ce, frozenset([f.tos & ~3]), [i], f.ipid))
        for g, members in self.frag_groups.items():
            d = None if g in unclean_keys else reassemble(g, members)
            if d is None:
                self.unclean[g] = members
            else:
                self.udp[d[0]].append(d[1])
        for dgrams in self.udp.values():
            dgrams.sort(key=lambda d: d.last)  # completion order
        return self


def group_key(f):
    """Fragments of one IPv4 datagram share this key."""
    return (f.vlans, f.outer, f.src, f.dst, f.proto, f.ipid)


def reassemble(g, members):
    """(flow, Dgram) if the fragments cover the datagram exactly once with
    one last fragment; None otherwise (overlap, duplicate, gap, unfinished)."""
    parts = sorted(members, key=lambda m: m[1].frag_off if m[1].is_fragment else 0)
    at, data, last_seen = 0, [], False
    for _, f in parts:
        off = f.frag_off if f.is_fragment else 0
        payload = f.l3_payload if f.is_fragment else None
        if payload is None or off != at or last_seen:
            return None
        data.append(payload)
        at += len(payload)
        if not f.more_frags:
            last_seen = True
    if not last_seen:
        return None
    l3 = b"".join(data)
    first = parts[0][1]
    vlans, outer, src, dst, proto, ipid = g
    if proto != PROTO_UDP or len(l3) < 8:
        flow = (vlans, outer, 4, src, dst, proto, 0, 0)
        payload, csum, ok = l3, 0, True
    else:
        sport, dport, ulen, csum = (int.from_bytes(l3[k:k + 2], "big") for k in (0, 2, 4, 6))
        if ulen != len(l3):
            return None
        ok = csum == 0 or fr.l4_checksum_ok(4, src, dst, proto, l3)
        flow = (vlans, outer, 4, src, dst, proto, sport, dport)
        payload = l3[8:]
    idxs = [i for i, _ in members]
    d = Dgram(min(idxs), max(idxs), payload, csum, any(f.ce for _, f in members),
              frozenset(f.tos & ~3 for _, f in members), sorted(idxs), ipid)
    d.csum = csum if ok else ("bad", csum)
    return flow, d
