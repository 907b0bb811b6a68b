"""An independent frame reader for the output checker (not grod's parser).

Reads Ethernet frames byte by byte with `struct`: 802.1Q/QinQ tags, IPv4
(options, fragments), IPv6 (extension headers are noted, not followed for
merging), TCP, UDP and VXLAN (inner frame read the same way). Checksums are
verified here, from the RFCs, with no code shared with grod.

parse(frame, vxlan_port) returns a Frame; `opaque` is set (with a reason)
when the frame is not a well-formed TCP/UDP packet or IPv4 fragment that GRO
may touch: such frames must leave grod byte-identical.
"""
import struct

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
PROTO_TCP, PROTO_UDP = 6, 17
IPV6_EXT = {0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254}
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
ECN_CE = 3


def csum16(data, initial=0):
    """RFC 1071 one's-complement sum, folded, not inverted."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    s = initial + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l4_checksum_ok(version, src, dst, proto, l4):
    """True if the TCP/UDP checksum over pseudo-header + segment verifies."""
    if version == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(l4), proto)
    return csum16(l4, csum16(pseudo)) == 0xFFFF


class Frame:
    """What the checker needs to know about one frame."""

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.opaque = None  # reason string when GRO must not touch it
        self.vlans = ()  # TCIs, outermost first
        self.outer = None  # VXLAN: (outer addresses, ports, vni, ...) tuple
        self.outer_udp_csum = None  # VXLAN: (value, ok)
        self.version = 0
        self.src = self.dst = b""
        self.tos = 0  # IPv4 TOS / IPv6 traffic class
        self.ip_ok = True  # IPv4 header checksum
        self.ipid = 0
        self.df = False
        self.frag_off = 0  # bytes
        self.more_frags = False
        self.proto = None
        self.l3_payload = b""  # IPv4 fragment payload
        self.sport = self.dport = 0
        self.l4_ok = True
        self.l4_csum = 0
        self.seq = self.ack = 0
        self.flags = 0
        self.window = 0
        self.payload = b""
        self.l2_tags = 0  # VLAN tags on the outermost frame (for the MTU)
        self.addr_pair = None  # for frames with only addresses known
        self.flow = None  # 5-tuple key with context, when known
        self.outer_tos = 0  # VXLAN: the outer header's TOS / traffic class

    @property
    def is_fragment(self):
        return self.version == 4 and (self.more_frags or self.frag_off)

    @property
    def ce(self):
        return self.tos & 3 == ECN_CE or self.outer_tos & 3 == ECN_CE


def parse(raw, vxlan_port=4789):
    f = Frame(raw)
    try:
        _parse_eth(f, memoryview(f.raw), 0, vxlan_port, inner=False)
    except (struct.error, IndexError, ValueError) as e:
        f.opaque = f.opaque or "truncated: %s" % e
    return f


def _parse_eth(f, b, off, vxlan_port, inner):
    if len(b) - off < 14:
        raise ValueError("short ethernet header")
    (etype,) = struct.unpack_from("!H", b, off + 12)
    off += 14
    vlans = []
    while etype in (ETH_VLAN, ETH_QINQ):
        tci, etype = struct.unpack_from("!HH", b, off)
        vlans.append(tci & 0x0FFF)
        off += 4
    if not inner:
        f.vlans = tuple(vlans)
        f.l2_tags = len(vlans)
    elif vlans:
        f.opaque = "VLAN tag inside VXLAN"
        return
    if etype == ETH_IPV4:
        _parse_ipv4(f, b, off, vxlan_port, inner)
    elif etype == ETH_IPV6:
        _parse_ipv6(f, b, off, vxlan_port, inner)
    else:
        f.opaque = "ethertype 0x%04x" % etype


def _parse_ipv4(f, b, off, vxlan_port, inner):
    if len(b) - off < 20:
        raise ValueError("short IPv4 header")
    vihl, tos, total, ipid, frag, _ttl, proto = struct.unpack_from(
        "!BBHHHBB", b, off)
    ihl = (vihl & 15) * 4
    if vihl >> 4 != 4 or ihl < 20:
        f.opaque = "bad IPv4 version/IHL"
        return
    if total < ihl or off + total > len(b) or off + ihl > len(b):
        f.opaque = "IPv4 total length %d does not fit the frame" % total
        return
    src, dst = bytes(b[off + 12:off + 16]), bytes(b[off + 16:off + 20])
    ip_ok = csum16(b[off:off + ihl]) == 0xFFFF
    end = off + total
    if off + total != len(b) and not inner:
        f.opaque = "Ethernet padding / trailing bytes"
        return
    f.version, f.src, f.dst, f.tos, f.proto = 4, src, dst, tos, proto
    f.ipid, f.df = ipid, bool(frag & 0x4000)
    f.more_frags, f.frag_off = bool(frag & 0x2000), (frag & 0x1FFF) * 8
    f.ip_ok = ip_ok
    f.addr_pair = (f.vlans, f.outer, 4, src, dst)
    if not ip_ok:
        f.opaque = "bad IPv4 header checksum"
        return
    if f.is_fragment:
        f.l3_payload = bytes(b[off + ihl:end])
        if f.frag_off == 0 and proto in (PROTO_TCP, PROTO_UDP) and end - off - ihl >= 4:
            f.sport, f.dport = struct.unpack_from("!HH", b, off + ihl)
        return
    _parse_l4(f, b, off + ihl, end, src, dst, vxlan_port, inner)


def _parse_ipv6(f, b, off, vxlan_port, inner):
    if len(b) - off < 40:
        raise ValueError("short IPv6 header")
    vtcfl, plen, nxt, _hlim = struct.unpack_from("!IHBB", b, off)
    if vtcfl >> 28 != 6:
        f.opaque = "bad IPv6 version"
        return
    src, dst = bytes(b[off + 8:off + 24]), bytes(b[off + 24:off + 40])
    end = off + 40 + plen
    if end > len(b) or (end != len(b) and not inner):
        f.opaque = "IPv6 payload length %d does not fit the frame" % plen
        return
    f.version, f.src, f.dst, f.tos, f.proto = 6, src, dst, (vtcfl >> 20) & 0xFF, nxt
    f.addr_pair = (f.vlans, f.outer, 6, src, dst)
    at = off + 40
    if nxt in IPV6_EXT:
        # Follow the chain only to learn the 5-tuple for the order check.
        while nxt in IPV6_EXT and nxt != 59 and at + 8 <= end:
            nxt2, hlen = b[at], b[at + 1]
            at += 8 if nxt == 44 else (hlen + 2) * 4 if nxt == 51 else (hlen + 1) * 8
            if nxt == 44:
                f.opaque = "IPv6 fragment"
                break
            nxt = nxt2
        f.opaque = f.opaque or "IPv6 extension header"
        if nxt in (PROTO_TCP, PROTO_UDP) and at + 4 <= end and f.opaque != "IPv6 fragment":
            sport, dport = struct.unpack_from("!HH", b, at)
            f.flow = (f.vlans, f.outer, 6, src, dst, nxt, sport, dport)
        return
    _parse_l4(f, b, at, end, src, dst, vxlan_port, inner)


def _parse_l4(f, b, off, end, src, dst, vxlan_port, inner):
    l4 = bytes(b[off:end])
    proto = f.proto
    if proto == PROTO_TCP:
        if len(l4) < 20:
            f.opaque = "short TCP header"
            return
        f.sport, f.dport, f.seq, f.ack, doff, f.flags, f.window, f.l4_csum = (
            struct.unpack_from("!HHIIBBHH", l4, 0))
        doff = (doff >> 4) * 4
        if doff < 20 or doff > len(l4):
            f.opaque = "bad TCP data offset"
            return
        f.payload = l4[doff:]
        f.l4_ok = l4_checksum_ok(f.version, src, dst, proto, l4)
    elif proto == PROTO_UDP:
        if len(l4) < 8:
            f.opaque = "short UDP header"
            return
        f.sport, f.dport, ulen, f.l4_csum = struct.unpack_from("!HHHH", l4, 0)
        if ulen != len(l4):
            f.opaque = "UDP length %d != %d" % (ulen, len(l4))
            return
        f.payload = l4[8:]
        if f.l4_csum == 0:
            f.l4_ok = f.version == 4  # IPv4 may omit it; IPv6 must not
        else:
            f.l4_ok = l4_checksum_ok(f.version, src, dst, proto, l4)
        if f.dport == vxlan_port and not inner and len(f.payload) >= 8 + 14:
            if f.payload[0] & 0x08 and f.l4_ok:
                vni = int.from_bytes(f.payload[4:7], "big")
                outer = (f.version, src, dst, f.sport, f.dport, vni)
                f.outer_udp_csum = (f.l4_csum, f.l4_ok)
                inner_frame = Frame(b"")
                inner_frame.outer = outer
                inner_frame.vlans = f.vlans
                _parse_eth(inner_frame, memoryview(f.payload), 8, vxlan_port, True)
                _adopt_inner(f, inner_frame)
                return
    else:
        f.opaque = "IP protocol %d" % proto
        return
    f.flow = (f.vlans, f.outer, f.version, src, dst, proto, f.sport, f.dport)
    if not f.l4_ok:
        f.opaque = "bad %s checksum" % ("TCP" if proto == PROTO_TCP else "UDP")


def _adopt_inner(f, inner):
    """The frame's L3/L4 view becomes the inner packet's (outer kept in .outer)."""
    outer_tos = f.tos
    for k, v in vars(inner).items():
        if k not in ("raw", "l2_tags", "outer_udp_csum"):
            setattr(f, k, v)
    f.outer_tos = outer_tos
