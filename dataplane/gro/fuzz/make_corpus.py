#!/usr/bin/env python3
"""Writes the GRO fuzzer's seed corpus (corpus/*) in fuzz_entry.h's format."""
import os
import struct


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth(t, vl=()):
    h = b'\x02\0\0\0\0\x01\x02\0\0\0\0\x02'
    for i, v in enumerate(vl):
        h += struct.pack('!HH', 0x88a8 if len(vl) == 2 and i == 0 else 0x8100, v)
    return h + struct.pack('!H', t)


def ip4(proto, payload, id=1, df=True, mf=False, off=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), id,
                    (0x4000 if df else 0) | (0x2000 if mf else 0) | (off // 8),
                    64, proto, 0, b'\x0a\0\0\x01', b'\x0a\0\0\x02')
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload


def ip6(proto, payload):
    a = b'\xfd' + b'\0' * 14
    return (struct.pack('!IHBB', 6 << 28, len(payload), proto, 64) + a + b'\x01' +
            a + b'\x02' + payload)


def tcp(seq, data, flags=0x10, opts=b''):
    return struct.pack('!HHIIBBHHH', 1000, 2000, seq, 1, (5 + len(opts) // 4) << 4,
                       flags, 65000, 0, 0) + opts + data


def udp(data, dport=2000):
    return struct.pack('!HHHH', 1000, dport, 8 + len(data), 0) + data


def vx(inner, vni=42):
    return udp(struct.pack('!BBHI', 8, 0, 0, vni << 8) + inner, 4789)


def write(name, cfg, types, pkts):
    recs = b''.join(struct.pack('!HB', len(p), f) + p for p, f in pkts)
    with open(os.path.join(os.path.dirname(__file__) or '.', 'corpus', name),
              'wb') as f:
        f.write(bytes([cfg, types]) + recs)


d = bytes(range(200))
write('tcp4_merge', 0, 63, [(eth(0x800) + ip4(6, tcp(i * 200, d)), 0) for i in range(4)])
write('tcp4_list_reorder', 0, 63,
      [(eth(0x800) + ip4(6, tcp(i * 200, d)), 1) for i in (1, 0, 3, 2)])
write('tcp6_psh', 0, 63,
      [(eth(0x86dd) + ip6(6, tcp(i * 200, d, 0x18 if i == 2 else 0x10)), 0)
       for i in range(3)])
write('udp4_vlan', 8, 63,
      [(eth(0x800, (5,)) + ip4(17, udp(d[:100 if i < 3 else 40]), id=i, df=False), 0)
       for i in range(4)])
full = udp(bytes(range(256)) * 4)
write('frag', 0, 63,
      [(eth(0x800) + ip4(17, full[o:o + 256], id=9, df=False, mf=o + 256 < len(full),
                         off=o), 0) for o in range(0, len(full), 256)])
write('vxlan_tcp4', 0, 63,
      [(eth(0x800) + ip4(17, vx(eth(0x800) + ip4(6, tcp(i * 200, d))), id=i, df=False), 4)
       for i in range(3)])
write('vxlan6_inner6', 16, 63,
      [(eth(0x86dd) + ip6(17, vx(eth(0x86dd) + ip6(6, tcp(i * 200, d)))), 8 | 16)
       for i in range(3)])
good = eth(0x800) + ip4(6, tcp(0, d))
write('malformed', 4, 63,
      [(good[:30], 0), (good[:14] + b'\x41' + good[15:], 0),
       (eth(0x800, (1, 2)) + ip4(6, tcp(0, b'xy')) + b'\0' * 10, 0), (b'\xff' * 10, 2)])
