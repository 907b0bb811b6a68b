#!/usr/bin/python3
"""Real kernel TCP and UDP traffic for grod's namespace test.

  kernel_traffic.py tcp-server PORT OUT      receive one stream, write its sha256 to OUT
  kernel_traffic.py tcp-client HOST PORT N   send N random bytes, print their sha256
  kernel_traffic.py udp-server PORT COUNT OUT  receive datagrams, write a report to OUT
  kernel_traffic.py udp-client HOST PORT COUNT  send COUNT numbered datagrams (paced)
"""
import hashlib
import json
import os
import socket
import sys
import time


def tcp_server(port, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    s.settimeout(60)
    conn, _ = s.accept()
    h = hashlib.sha256()
    total = 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        total += len(b)
    with open(out, "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), total))


def tcp_client(host, port, n):
    data = os.urandom(n)
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # wait for the server to close
    print("%s %d" % (hashlib.sha256(data).hexdigest(), n))


def payload(i):
    # 1200 bytes whose content depends on the sequence number.
    return i.to_bytes(4, "big") + bytes((i * 7 + k) & 0xFF for k in range(1196))


def udp_server(port, count, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A slow receiver on a busy machine must not overrun its own socket.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(5)
    seen, corrupt, reordered, last = 0, 0, 0, -1
    try:
        while seen < count:
            b, _ = s.recvfrom(65535)
            i = int.from_bytes(b[:4], "big")
            if b != payload(i):
                corrupt += 1
            if i <= last:
                reordered += 1
            last = max(last, i)
            seen += 1
    except socket.timeout:
        pass
    with open(out, "w") as f:
        json.dump({"received": seen, "corrupt": corrupt, "reordered": reordered}, f)


def udp_client(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(payload(i), (host, port))
        if i % 32 == 31:
            # sleep-ok: paces the sender (a burst per poll, no socket overrun)
            time.sleep(0.002)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "tcp-server":
        tcp_server(int(args[0]), args[1])
    elif cmd == "tcp-client":
        tcp_client(args[0], int(args[1]), int(args[2]))
    elif cmd == "udp-server":
        udp_server(int(args[0]), int(args[1]), args[2])
    elif cmd == "udp-client":
        udp_client(args[0], int(args[1]), int(args[2]))
    else:
        sys.exit("unknown command " + cmd)
