"""Classic libpcap files (what DPDK's net_pcap reads and writes)."""
import struct

_MAGIC_US, _MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D


def read(path):
    """The frames of a pcap file, in order (bytes each)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        raise ValueError("%s: not a pcap file (%d bytes)" % (path, len(data)))
    (magic,) = struct.unpack_from("<I", data, 0)
    if magic in (_MAGIC_US, _MAGIC_NS):
        endian = "<"
    elif struct.unpack_from(">I", data, 0)[0] in (_MAGIC_US, _MAGIC_NS):
        endian = ">"
    else:
        raise ValueError("%s: bad pcap magic 0x%08x" % (path, magic))
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, want Ethernet (1)" % (path, linktype))
    frames, off = [], 24
    while off + 16 <= len(data):
        _s, _us, caplen, wirelen = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        if caplen != wirelen:
            raise ValueError("%s: frame %d captured %d of %d bytes (snaplen too small)"
                             % (path, len(frames), caplen, wirelen))
        frames.append(data[off:off + caplen])
        off += caplen
    if off != len(data):
        raise ValueError("%s: %d trailing bytes (truncated file)" % (path, len(data) - off))
    return frames


def write(path, frames, snaplen=262144):
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", _MAGIC_US, 2, 4, 0, 0, snaplen, 1))
        for i, f in enumerate(frames):
            fh.write(struct.pack("<IIII", 1, i, len(f), len(f)))
            fh.write(bytes(f))
