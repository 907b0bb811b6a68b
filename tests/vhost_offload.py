"""Traffic and an independent reader for vhost_offload_test.sh.

Everything here parses bytes itself (Ethernet, IPv4/IPv6, TCP, the
virtio-net header); nothing comes from grod.

  inject IFACE SEED OUT.json     TCP segments (IPv4 + IPv6 flows, seeded)
                                 sent on IFACE; what was sent -> OUT.json
  guest-frames SEED TSO OUT.bin OUT.json
                                 frames for virtio_guest --send (TSO: large
                                 packets with an MSS), and what they carry
  capture IFACE SECONDS OUT.bin  raw frames received on IFACE
  check-guest RX.bin SENT.json TSO EXPECT
                                 what the guest received vs. what was sent
  check-wire CAP.bin SENT.json       what left grod's wire side vs. what the
                                     guest sent
"""
import json
import random
import socket
import struct
import sys
import time

GUEST_MAC = bytes.fromhex("020000008802")
NS_MAC = bytes.fromhex("020000008801")
# The wire side's addresses are not the netns' own: its kernel ignores
# (never answers) the guest's packets; the capture still sees them.
V4 = ("10.88.0.7", "10.88.0.2")
V6 = ("fd00:88::7", "fd00:88::2")
MTU = 1500


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def pseudo(src, dst, v6, length):
    if v6:
        return (socket.inet_pton(socket.AF_INET6, src) +
                socket.inet_pton(socket.AF_INET6, dst) +
                struct.pack("!IxxxB", length, 6))
    return (socket.inet_aton(src) + socket.inet_aton(dst) +
            struct.pack("!xBH", 6, length))


def tcp_frame(v6, sport, dport, seq, payload, flags=0x10, src_mac=NS_MAC,
              dst_mac=GUEST_MAC, swap=False):
    src, dst = (V6 if v6 else V4)
    if swap:
        src, dst = dst, src
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags,
                      65535, 0, 0) + payload
    c = 0xFFFF - csum(pseudo(src, dst, v6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + \
            socket.inet_pton(socket.AF_INET6, src) + \
            socket.inet_pton(socket.AF_INET6, dst)
        et = 0x86DD
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x1234,
                         0x4000, 64, 6, 0, socket.inet_aton(src),
                         socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", 0xFFFF - csum(ip)) + ip[12:]
        et = 0x0800
    return dst_mac + src_mac + struct.pack("!H", et) + ip + tcp


def payload_of(rng, n):
    return rng.randbytes(n)


def flows(seed, count, base_port):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        out.append({"v6": i % 2 == 1, "sport": base_port + i, "dport": 5001,
                    "isn": rng.getrandbits(32), "mss": rng.choice([1000, 1200, 1400, 1440])})
    return rng, out


def cmd_inject(iface, seed, out_json):
    """Segments of 16 flows, 44 in a row per flow (so GRO can merge up to
    64 KB), flows interleaved."""
    rng, fl = flows(int(seed), 16, 40000)
    segs, run = 88, 44
    for f in fl:
        f["payload"] = payload_of(rng, f["mss"] * segs)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = 0
    for k in range(0, segs, run):
        for f in fl:
            for j in range(k, k + run):
                p = f["payload"][j * f["mss"]:(j + 1) * f["mss"]]
                s.send(tcp_frame(f["v6"], f["sport"], f["dport"],
                                 (f["isn"] + j * f["mss"]) & 0xFFFFFFFF, p))
                sent += 1
        time.sleep(0.002)  # sleep-ok: paces the sender (no socket overrun)
    json.dump({"segments": sent, "flows": [
        {**{k: v for k, v in f.items() if k != "payload"},
         "payload": f["payload"].hex()} for f in fl]}, open(out_json, "w"))
    print("injected %d segments of %d flows" % (sent, len(fl)))


def cmd_guest_frames(seed, tso, out_bin, out_json):
    """What the guest sends: per flow a few large TSO packets, or plain
    segments without TSO; replies go from the guest's address."""
    rng, fl = flows(int(seed) + 1, 8, 41000)
    tso = tso == "1"
    recs = []
    for f in fl:
        total = 0
        f["payload"] = b""
        pkts = []
        for k in range(4):
            n = rng.randint(3, 44) * f["mss"] if tso else f["mss"]
            if tso:
                n += rng.randint(0, f["mss"] - 1)  # a short last segment
            if tso and k == 3:
                n = rng.randint(1, f["mss"])  # a plain packet, see below
            p = payload_of(rng, n)
            pkts.append((f["isn"] + total) & 0xFFFFFFFF)
            total += n
            f["payload"] += p
            recs.append((f, pkts[-1], p))
    # Interleave flows but keep each flow's packets in order.
    order = []
    per = {}
    for f, seq, p in recs:
        per.setdefault(f["sport"], []).append((f, seq, p))
    while any(per.values()):
        for k in list(per):
            if per[k]:
                order.append(per[k].pop(0))
    with open(out_bin, "wb") as o:
        for f, seq, p in order:
            fr = tcp_frame(f["v6"], f["sport"], f["dport"], seq, p,
                           src_mac=GUEST_MAC, dst_mac=NS_MAC, swap=True)
            mss = f["mss"] if tso else 0
            if tso and len(p) <= f["mss"]:
                # A single segment with its checksum left to the backend
                # (the guest's driver stores only the pseudo-header sum;
                # a zeroed field here shows nothing else filled it in).
                mss = 0xFFFF
                l4 = 14 + (40 if f["v6"] else 20)
                fr = fr[:l4 + 16] + b"\0\0" + fr[l4 + 18:]
            o.write(struct.pack("<IH", len(fr), mss) + fr)
    json.dump({"packets": len(order), "flows": [
        {**{k: v for k, v in f.items() if k != "payload"},
         "payload": f["payload"].hex()} for f in fl]}, open(out_json, "w"))
    print("guest frames: %d packets of %d flows" % (len(order), len(fl)))


def cmd_capture(iface, seconds, out_bin):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    s.bind((iface, 0))
    s.settimeout(0.2)
    open(out_bin + ".ready", "w").close()  # the socket sees frames now
    end = time.time() + float(seconds)
    n = 0
    with open(out_bin, "wb") as o:
        while time.time() < end:
            try:
                b, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            o.write(struct.pack("<I", len(b)) + b)
            n += 1
    print("captured %d frames" % n)


def parse(frame):
    """-> dict of the TCP packet's fields, or None if not TCP/IP."""
    et = struct.unpack("!H", frame[12:14])[0]
    if et == 0x0800:
        ihl = (frame[14] & 0xF) * 4
        total = struct.unpack("!H", frame[16:18])[0]
        if frame[23] != 6:
            return None
        src = socket.inet_ntoa(frame[26:30])
        dst = socket.inet_ntoa(frame[30:34])
        l3, l4, end, v6 = 14, 14 + ihl, 14 + total, False
        ip_ok = csum(frame[14:14 + ihl]) == 0xFFFF
    elif et == 0x86DD:
        if frame[20] != 6:
            return None
        plen = struct.unpack("!H", frame[18:20])[0]
        src = socket.inet_ntop(socket.AF_INET6, frame[22:38])
        dst = socket.inet_ntop(socket.AF_INET6, frame[38:54])
        l3, l4, end, v6 = 14, 54, 54 + plen, True
        ip_ok = True
    else:
        return None
    sport, dport, seq = struct.unpack("!HHI", frame[l4:l4 + 8])
    doff = (frame[l4 + 12] >> 4) * 4
    seg = frame[l4:end]
    return {"v6": v6, "src": src, "dst": dst, "sport": sport, "dport": dport,
            "seq": seq, "l4": l4, "hdr": l4 + doff - 14, "end": end,
            "payload": frame[l4 + doff:end], "ip_ok": ip_ok,
            "tcp_sum": csum(pseudo(src, dst, v6, len(seg)) + seg),
            "field": struct.unpack("!H", frame[l4 + 16:l4 + 18])[0],
            "seg": seg}


def reassemble(name, per_flow, sent, problems):
    for f in sent["flows"]:
        want = bytes.fromhex(f["payload"])
        got = per_flow.get(f["sport"], [])
        data = b"".join(p for _, p in got)
        seqs = [s for s, _ in got]
        expect_seq, ordered = f["isn"], True
        for s, p in got:
            if s != expect_seq & 0xFFFFFFFF:
                ordered = False
            expect_seq += len(p)
        if data != want or not ordered:
            problems.append("%s flow %d: %d of %d bytes, in order %s" %
                            (name, f["sport"], len(data), len(want), ordered))


def cmd_check_guest(rx_bin, sent_json, tso, expect):
    """tso: the guest negotiated TSO; expect: "gso" (merged packets arrive
    whole) or "plain" (only frames within the MTU)."""
    tso = tso == "1"
    limit = None
    if expect.startswith("gso-max:"):
        expect, limit = "gso", int(expect.split(":")[1])
    sent = json.load(open(sent_json))
    mss = {f["sport"]: f["mss"] for f in sent["flows"]}
    buf = open(rx_bin, "rb").read()
    off, packets, gso, problems = 0, 0, 0, []
    per_flow, convs, largest = {}, {}, 0
    while off < len(buf):
        length, segs, tso_segsz, flags = struct.unpack_from("<IHHQ", buf, off)
        vflags, gtype, hlen, gsize, cstart, coff, nbuf = struct.unpack_from(
            "<BBHHHHH", buf, off + 16)
        frame = buf[off + 28:off + 28 + length]
        off += 28 + length
        p = parse(frame)
        if p is None or p["sport"] not in mss:
            continue
        packets += 1
        largest = max(largest, length)
        key = p["sport"]
        per_flow.setdefault(key, []).append((p["seq"], p["payload"]))
        where = "flow %d seq %d (%d bytes)" % (key, p["seq"], length)
        if not p["ip_ok"]:
            problems.append(where + ": bad IPv4 header checksum")
        if gtype == 0:
            # A plain frame: within the MTU, checksum complete (no
            # NEEDS_CSUM unless the guest took partial checksums).
            if length > MTU + 14:
                problems.append(where + ": plain frame above the MTU")
            if vflags & 1:
                if not tso:
                    problems.append(where + ": NEEDS_CSUM without GUEST_CSUM")
            elif p["tcp_sum"] != 0xFFFF:
                problems.append(where + ": bad TCP checksum")
            continue
        gso += 1
        if not tso or expect != "gso":
            problems.append(where + ": GSO header (guest TSO %s, expected %s)"
                            % (tso, expect))
            continue
        want_type = 4 if p["v6"] else 1
        ok = (gtype == want_type and gsize == mss[key] and vflags & 1 and
              cstart == p["l4"] and coff == 16 and
              len(p["payload"]) > gsize and p["hdr"] + gsize <= MTU)
        # NEEDS_CSUM: the field holds a pseudo-header sum.  Virtio (and a
        # Linux guest that segments the packet again) means the one over
        # the packet's TCP length; DPDK 22.11's vhost library rewrites it
        # the NIC TSO way, without the length, whatever grod stored
        # (rte_net_intel_cksum_prepare): either is accepted here, each
        # counted in the report (docs/OPERATIONS.md says what it means).
        seg = p["seg"]
        with_len = csum(pseudo(p["src"], p["dst"], p["v6"], len(seg)))
        no_len = csum(pseudo(p["src"], p["dst"], p["v6"], 0))
        conv = ("with-length" if p["field"] == with_len else
                "without-length" if p["field"] == no_len else "other")
        if not ok or conv == "other":
            problems.append(
                where + ": header flags %d gso_type %d gso_size %d "
                "csum_start %d csum_offset %d, checksum field %s" %
                (vflags, gtype, gsize, cstart, coff, conv))
        convs[conv] = convs.get(conv, 0) + 1
        if not (flags & (1 << 16)) or tso_segsz != mss[key]:  # RX_LRO
            problems.append(where + ": PMD saw no LRO / MSS %d" % tso_segsz)
    if limit is None:
        reassemble("guest", per_flow, sent, problems)
    # (A ring that small overflows under bursts whatever the packet
    # sizes: what is lost there is counted by grod as tx_ring_full, so
    # only what arrived is checked.)
    print(json.dumps({"sent_segments": sent["segments"], "received": packets,
                      "gso_packets": gso, "largest": largest,
                      "checksum_fields": convs}))
    if limit is not None:
        # Whole packets up to the limit, segments beyond: more packets
        # than with 64 KB ones, none larger than the limit.
        got = sum(len(p) for v in per_flow.values() for _, p in v)
        want = sum(len(f["payload"]) // 2 for f in sent["flows"])
        print("small rings: %d of %d payload bytes arrived" % (got, want))
        if largest > limit:
            problems.append("small rings: %d GSO packets, largest %d bytes "
                            "(limit %d)" % (gso, largest, limit))
    elif expect == "gso" and not (gso > 0 and
                                  packets < sent["segments"] * 0.5 and
                                  largest > 40000):
        problems.append("TSO guest: %d packets (%d GSO, largest %d bytes) "
                        "for %d segments" %
                        (packets, gso, largest, sent["segments"]))
    if expect == "gso" and limit is None:
        # Per flow too: every flow's segments arrive as fewer packets.
        for f in sent["flows"]:
            n = len(per_flow.get(f["sport"], []))
            segs = len(bytes.fromhex(f["payload"])) // f["mss"]
            if not 0 < n <= segs // 4:
                problems.append("flow %d: %d packets for %d segments" %
                                (f["sport"], n, segs))
    if expect == "plain" and packets != sent["segments"]:
        problems.append("plain: %d frames for %d segments" %
                        (packets, sent["segments"]))
    for pr in problems[:20]:
        print("PROBLEM:", pr)
    sys.exit(1 if problems else 0)


def cmd_check_wire(cap_bin, sent_json):
    sent = json.load(open(sent_json))
    ports = {f["sport"] for f in sent["flows"]}
    buf = open(cap_bin, "rb").read()
    off, frames, problems, per_flow = 0, 0, [], {}
    while off < len(buf):
        (length,) = struct.unpack_from("<I", buf, off)
        frame = buf[off + 4:off + 4 + length]
        off += 4 + length
        p = parse(frame)
        if p is None or p["sport"] not in ports:
            continue
        frames += 1
        where = "flow %d seq %d (%d bytes)" % (p["sport"], p["seq"], length)
        if length > MTU + 14:
            problems.append(where + ": above the MTU")
        if not p["ip_ok"] or p["tcp_sum"] != 0xFFFF:
            problems.append(where + ": bad checksum")
        per_flow.setdefault(p["sport"], []).append((p["seq"], p["payload"]))
    reassemble("wire", per_flow, sent, problems)
    print(json.dumps({"guest_packets": sent["packets"], "wire_frames": frames}))
    for pr in problems[:20]:
        print("PROBLEM:", pr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    cmds = {"inject": cmd_inject, "guest-frames": cmd_guest_frames,
            "capture": cmd_capture, "check-guest": cmd_check_guest,
            "check-wire": cmd_check_wire}
    cmds[sys.argv[1]](*sys.argv[2:])
