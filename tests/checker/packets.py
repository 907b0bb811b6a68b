"""Frame builders for the stream generators (scapy computes the checksums,
so the generators share no checksum code with the checker)."""
import ipaddress
import struct

from scapy.utils import checksum as scapy_checksum
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw

MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


class Flow:
    """Addresses of one 5-tuple; `ip()` builds its IP header."""

    def __init__(self, ver, src, dst, sport, dport, vlan=None, vxlan=None):
        self.ver, self.src, self.dst = ver, src, dst
        self.sport, self.dport, self.vlan = sport, dport, vlan
        self.vxlan = vxlan  # (outer ver, outer src, outer dst, vni) or None

    def l2(self):
        e = Ether(src=MAC_A, dst=MAC_B)
        return e / Dot1Q(vlan=self.vlan) if self.vlan else e

    def ip(self, **kw):
        if self.ver == 4:
            return IP(src=self.src, dst=self.dst, **kw)
        kw6 = {}
        if "tos" in kw:
            kw6["tc"] = kw.pop("tos")
        kw.pop("id", None)
        kw.pop("flags", None)
        return IPv6(src=self.src, dst=self.dst, **kw6)

    def wrap(self, inner_ip_pkt):
        """The full frame: L2 [/ outer IP / UDP / VXLAN / inner L2] / packet."""
        if not self.vxlan:
            return bytes(self.l2() / inner_ip_pkt)
        over, osrc, odst, vni = self.vxlan
        outer_ip = IP(src=osrc, dst=odst, flags="DF") if over == 4 else IPv6(src=osrc, dst=odst)
        # IPv4 outer: checksum 0 as Linux sends; IPv6 outer: a real one (RFC 8200).
        udp = UDP(sport=49152 + (self.sport % 1000), dport=4789,
                  chksum=0 if over == 4 else None)
        inner = Ether(src="02:00:00:00:01:0a", dst="02:00:00:00:01:0b") / inner_ip_pkt
        return bytes(self.l2() / outer_ip / udp / VXLAN(vni=vni, flags=0x08) / inner)


_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40,
              "C": 0x80}


def _plain(flow, proto, l4_wo_csum, csum_at, ipid, tos, df, csum=None, frag=0, ipopts=b""):
    """A plain (no VXLAN) frame built with struct, checksums by scapy's
    checksum(): scapy's Packet building costs ~1 ms a frame, too slow for
    streams of 30000 frames."""
    src = ipaddress.ip_address(flow.src).packed
    dst = ipaddress.ip_address(flow.dst).packed
    l4 = bytearray(l4_wo_csum)
    if csum_at is not None:
        if csum is None:
            if flow.ver == 4:
                pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
            else:
                pseudo = src + dst + struct.pack("!IxxxB", len(l4), proto)
            csum = scapy_checksum(pseudo + bytes(l4))
            if proto == 17 and csum == 0:
                csum = 0xFFFF
        struct.pack_into("!H", l4, csum_at, csum)
    mac = bytes.fromhex(MAC_B.replace(":", "")) + bytes.fromhex(MAC_A.replace(":", ""))
    l2 = mac
    if isinstance(flow.vlan, tuple):  # QinQ: (outer S-tag, inner C-tag)
        l2 += struct.pack("!HHHH", 0x88A8, flow.vlan[0], 0x8100, flow.vlan[1])
    elif flow.vlan:
        l2 += struct.pack("!HH", 0x8100, flow.vlan)
    if flow.ver == 4:
        assert len(ipopts) % 4 == 0
        ihl = 5 + len(ipopts) // 4
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + len(l4),
                                    ipid & 0xFFFF, (0x4000 if df else 0) | frag, 64, proto, 0,
                                    src, dst) + ipopts)
        struct.pack_into("!H", hdr, 10, scapy_checksum(bytes(hdr)))
        return l2 + struct.pack("!H", 0x0800) + bytes(hdr) + bytes(l4)
    hdr = struct.pack("!IHBB16s16s", (6 << 28) | (tos << 20), len(l4), proto, 64, src, dst)
    return l2 + struct.pack("!H", 0x86DD) + hdr + bytes(l4)


def tcp(flow, seq, payload, flags="A", window=502, ack=1000, ipid=0, tos=0, df=True,
        opts=b"", ipopts=b""):
    if not flow.vxlan:
        assert len(opts) % 4 == 0
        bits = sum(_FLAG_BITS[c] for c in flags)
        seg = struct.pack("!HHIIBBHHH", flow.sport, flow.dport, seq & 0xFFFFFFFF, ack,
                          (5 + len(opts) // 4) << 4, bits, window, 0, 0) + opts + payload
        return _plain(flow, 6, seg, 16, ipid, tos, df, ipopts=ipopts)
    kw = {"tos": tos}
    if flow.ver == 4:
        kw.update(id=ipid & 0xFFFF, flags="DF" if df else 0)
    seg = TCP(sport=flow.sport, dport=flow.dport, seq=seq & 0xFFFFFFFF, ack=ack,
              flags=flags, window=window)
    return flow.wrap(flow.ip(**kw) / seg / Raw(payload))


def udp(flow, payload, ipid=0, tos=0, csum=None):
    if not flow.vxlan:
        dgram = struct.pack("!HHHH", flow.sport, flow.dport, 8 + len(payload), 0) + payload
        return _plain(flow, 17, dgram, 6, ipid, tos, False, csum)
    kw = {"tos": tos}
    if flow.ver == 4:
        kw.update(id=ipid & 0xFFFF)
    return flow.wrap(flow.ip(**kw) / UDP(sport=flow.sport, dport=flow.dport, chksum=csum) /
                     Raw(payload))


def udp_l4_bytes(flow, payload, csum=None):
    """The UDP header + payload of a datagram, checksum computed for IPv4."""
    return udp(Flow(4, flow.src, flow.dst, flow.sport, flow.dport), payload, csum=csum)[34:]


def ipv4_fragment(flow, ipid, offset, data, more, tos=0, proto=17):
    """One IPv4 fragment carrying `data` at byte `offset` (a multiple of 8)."""
    assert offset % 8 == 0
    if not flow.vxlan:
        return _plain(flow, proto, data, None, ipid, tos, False,
                      frag=(offset // 8) | (0x2000 if more else 0))
    ip = IP(src=flow.src, dst=flow.dst, id=ipid & 0xFFFF, frag=offset // 8,
            flags="MF" if more else 0, proto=proto, tos=tos)
    return flow.wrap(ip / Raw(data))


def ipv6_hop_by_hop_tcp(flow, seq, payload, window=502, ack=1000):
    """IPv6 TCP behind a hop-by-hop header: GRO must pass it untouched."""
    pkt = IPv6(src=flow.src, dst=flow.dst) / IPv6ExtHdrHopByHop() / TCP(
        sport=flow.sport, dport=flow.dport, seq=seq, ack=ack, flags="A", window=window) / Raw(payload)
    return bytes(flow.l2() / pkt)


def ipv6_fragment_udp(flow, ident, payload):
    """A whole UDP datagram in one IPv6 fragment (offset 0, M=0)."""
    pkt = IPv6(src=flow.src, dst=flow.dst) / IPv6ExtHdrFragment(id=ident, m=0, offset=0) / UDP(
        sport=flow.sport, dport=flow.dport) / Raw(payload)
    return bytes(flow.l2() / pkt)


def arp():
    return bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.9.0.1", pdst="10.9.0.2"))


def unknown_ethertype(rng):
    return bytes.fromhex("020000000000020000000001") + struct.pack("!H", 0x88B5) + bytes(
        rng.randrange(256) for _ in range(rng.randrange(46, 200)))


def garbage(rng):
    return bytes(rng.randrange(256) for _ in range(rng.randrange(14, 300)))
