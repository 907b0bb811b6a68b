#!/usr/bin/python3
"""Writes a synthetic capture for scripts/bench_process.sh.

  bench_pcap.py OUT PROTO FLOWS [--train=16] [--packets=16384]

PROTO: tcp4 | tcp6 (TCP with the timestamp option, Linux's default) | udp4.
Every frame is 1514 bytes (a full-size segment of a 1500-byte MTU) with
correct checksums.  Flows send trains of --train segments (what a sender's
TSO burst puts on the wire), the trains of all flows round robin, so
FLOWS x train packets at least.  TCP sequence numbers continue per flow.
"""
import argparse
import struct
import sys


def csum_add(data, s=0):
    if len(data) % 2:
        data += b"\0"
    s += sum(struct.unpack("!%dH" % (len(data) // 2), data))
    return s


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("proto", choices=["tcp4", "tcp6", "udp4"])
    ap.add_argument("flows", type=int)
    ap.add_argument("--train", type=int, default=16)
    ap.add_argument("--packets", type=int, default=16384)
    a = ap.parse_args()

    v6 = a.proto == "tcp6"
    tcp = a.proto != "udp4"
    ip_len = 40 if v6 else 20
    l4_len = 32 if tcp else 8  # TCP + timestamps (12 option bytes)
    payload_len = 1514 - 14 - ip_len - l4_len
    payload = bytes((i * 7 + 3) & 0xFF for i in range(payload_len))
    payload_sum = csum_add(payload)
    eth = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]) + (
        b"\x86\xdd" if v6 else b"\x08\x00")

    rounds = max(1, -(-a.packets // (a.flows * a.train)))
    seq = [1000] * a.flows
    ip_id = [0] * a.flows
    frames = []
    for r in range(rounds):
        for f in range(a.flows):
            # Flow f: 10.1.x.y:(10000+f%50000) -> 10.2.0.1:5201 (v6 alike).
            hi, lo = (f >> 8) & 0xFF, f & 0xFF
            if v6:
                src = bytes([0x20, 1, 0xd, 0xb8, 0, 1] + [0] * 8 + [hi, lo])
                dst = bytes([0x20, 1, 0xd, 0xb8, 0, 2] + [0] * 9 + [1])
            else:
                src = bytes([10, 1, hi, lo])
                dst = bytes([10, 2, 0, 1])
            sport = 10000 + f % 50000
            for t in range(a.train):
                if tcp:
                    opts = b"\x01\x01\x08\x0a" + struct.pack("!II", 7 + r, 9)
                    l4 = struct.pack("!HHIIBBHHH", sport, 5201, seq[f], 1,
                                     (l4_len // 4) << 4, 0x10, 512, 0,
                                     0) + opts
                    seq[f] = (seq[f] + payload_len) & 0xFFFFFFFF
                    proto = 6
                else:
                    l4 = struct.pack("!HHHH", sport, 5201,
                                     l4_len + payload_len, 0)
                    proto = 17
                seg_len = l4_len + payload_len
                pseudo = src + dst + struct.pack("!HH", proto, seg_len)
                c = 0xFFFF - fold(csum_add(pseudo + l4, payload_sum))
                if not tcp and c == 0:
                    c = 0xFFFF
                off = 16 if tcp else 6
                l4 = l4[:off] + struct.pack("!H", c) + l4[off + 2:]
                if v6:
                    ip = struct.pack("!IHBB", 6 << 28, seg_len, proto,
                                     64) + src + dst
                else:
                    ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + seg_len,
                                     ip_id[f], 0x4000, 64, proto, 0) + src + dst
                    ip_id[f] = (ip_id[f] + 1) & 0xFFFF
                    hc = 0xFFFF - fold(csum_add(ip))
                    ip = ip[:10] + struct.pack("!H", hc) + ip[12:]
                frames.append(eth + ip + l4 + payload)
    with open(a.out, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            o.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr),
                                len(fr)))
            o.write(fr)
    print("bench_pcap: %s: %d frames, %s, %d flows, trains of %d" %
          (a.out, len(frames), a.proto, a.flows, a.train), file=sys.stderr)


if __name__ == "__main__":
    main()
