#include "dataplane/traffic/sample_traffic.h"

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace grod {
namespace {

constexpr int kSegmentsPerFlow = 24;
constexpr int kMss = 1448;
// IPv6's header is 20 bytes longer: its MSS on the same 1500-byte MTU.
constexpr int kMss6 = kMss - 20;

class Frame {
 public:
  void Bytes(std::initializer_list<uint8_t> b) { data_.insert(data_.end(), b); }
  void U16(uint16_t v) { Bytes({uint8_t(v >> 8), uint8_t(v)}); }
  void U32(uint32_t v) { U16(v >> 16), U16(v & 0xffff); }
  void Zero(size_t n) { data_.insert(data_.end(), n, 0); }
  size_t size() const { return data_.size(); }
  uint8_t* at(size_t off) { return data_.data() + off; }
  void Put16(size_t off, uint16_t v) {
    data_[off] = v >> 8;
    data_[off + 1] = v & 0xff;
  }
  std::vector<uint8_t> Take() { return std::move(data_); }

 private:
  std::vector<uint8_t> data_;
};

uint32_t SumWords(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

void Ethernet(Frame& f, uint16_t ethertype, uint16_t vlan = 0) {
  f.Bytes({0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
  if (vlan != 0) {
    f.U16(0x8100);
    f.U16(vlan);
  }
  f.U16(ethertype);
}

// Writes an IPv4 header at the end of `f`; returns its offset.
size_t Ipv4(Frame& f, uint8_t proto, uint32_t src, uint32_t dst,
            uint16_t payload_len, uint16_t id) {
  const size_t off = f.size();
  f.Bytes({0x45, 0});
  f.U16(20 + payload_len);
  f.U16(id);
  f.U16(0x4000);  // DF
  f.Bytes({64, proto});
  f.U16(0);
  f.U32(src);
  f.U32(dst);
  f.Put16(off + 10, Fold(SumWords(f.at(off), 20)));
  return off;
}

size_t Ipv6(Frame& f, uint8_t proto, uint8_t src_last, uint8_t dst_last,
            uint16_t payload_len) {
  const size_t off = f.size();
  f.U32(0x60000000);
  f.U16(payload_len);
  f.Bytes({proto, 64});
  for (uint8_t last : {src_last, dst_last}) {
    f.Bytes({0x20, 0x01, 0x0d, 0xb8});
    f.Zero(11);
    f.Bytes({last});
  }
  return off;
}

void Payload(Frame& f, uint32_t seed, uint32_t offset, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    f.Bytes({uint8_t(seed * 31 + ((offset + i) * 7) + ((offset + i) >> 8))});
  }
}

// L4 checksum over the pseudo-header and [l4_off, end).
void L4Checksum(Frame& f, size_t ip_off, bool v6, size_t l4_off,
                size_t csum_off, uint8_t proto) {
  const size_t l4_len = f.size() - l4_off;
  uint32_t sum =
      v6 ? SumWords(f.at(ip_off + 8), 32) : SumWords(f.at(ip_off + 12), 8);
  sum += proto + l4_len;
  sum = SumWords(f.at(l4_off), l4_len, sum);
  uint16_t c = Fold(sum);
  if (proto == 17 && c == 0) c = 0xffff;
  f.Put16(csum_off, c);
}

size_t IpHeader(Frame& f, const FlowAddress& a, uint8_t proto, uint16_t l4_len,
                uint16_t id) {
  Ethernet(f, a.v6 ? 0x86dd : 0x0800, a.vlan);
  return a.v6 ? Ipv6(f, proto, a.src_v6_last, a.dst_v6_last, l4_len)
              : Ipv4(f, proto, a.src_v4, a.dst_v4, l4_len, id);
}

}  // namespace

std::vector<uint8_t> TcpFrame(const FlowAddress& a, uint32_t seq, size_t len,
                              uint8_t flags) {
  Frame f;
  // IPv4 ID advances with the data so DF=0 peers would accept it too.
  const size_t ip = IpHeader(f, a, 6, 20 + len, uint16_t(seq / 1024));
  const size_t l4 = f.size();
  f.U16(a.sport);
  f.U16(a.dport);
  f.U32(seq);
  f.U32(1);  // ack
  f.Bytes({0x50, flags});
  f.U16(65535);
  f.U32(0);  // checksum, urgent pointer
  Payload(f, a.sport ^ a.dport, seq, len);
  L4Checksum(f, ip, a.v6, l4, l4 + 16, 6);
  return f.Take();
}

std::vector<uint8_t> UdpFrame(const FlowAddress& a, uint32_t index,
                              size_t len) {
  Frame f;
  const size_t ip = IpHeader(f, a, 17, 8 + len, uint16_t(index));
  const size_t l4 = f.size();
  f.U16(a.sport);
  f.U16(a.dport);
  f.U16(8 + len);
  f.U16(0);
  Payload(f, a.sport ^ a.dport, index * 65521, len);
  L4Checksum(f, ip, a.v6, l4, l4 + 6, 17);
  return f.Take();
}

namespace {

std::vector<uint8_t> Tcp4(int flow, int seg, size_t len, uint8_t flags) {
  FlowAddress a;
  a.src_v4 = 0x0a000001 + flow;
  a.sport = 40000 + flow;
  return TcpFrame(a, 1 + seg * kMss, len, flags);
}

std::vector<uint8_t> Tcp6(int flow, int seg, size_t len) {
  FlowAddress a;
  a.v6 = true;
  a.src_v6_last = 0x10 + flow;
  a.dst_v6_last = 0x01;
  a.sport = 41000 + flow;
  return TcpFrame(a, 1 + seg * kMss6, len);
}

std::vector<uint8_t> Udp4(int flow, int seg, size_t len) {
  FlowAddress a;
  a.src_v4 = 0x0a000101 + flow;
  a.dst_v4 = 0x0a640002;
  a.sport = 42000 + flow;
  a.dport = 4433;
  return UdpFrame(a, seg, len);
}

std::vector<uint8_t> VxlanTcp4(int flow, int seg, size_t len) {
  std::vector<uint8_t> inner = Tcp4(100 + flow, seg, len, 0x10);
  Frame f;
  Ethernet(f, 0x0800);
  const size_t udp_len = 8 + 8 + inner.size();
  Ipv4(f, 17, 0xc0a80001, 0xc0a80002, udp_len, seg);
  f.U16(49152 + flow);  // source port carries the inner flow's entropy
  f.U16(4789);
  f.U16(udp_len);
  f.U16(0);  // UDP checksum 0 is allowed for VXLAN over IPv4
  f.Bytes({0x08, 0, 0, 0});
  f.U32((1000 + flow) << 8);  // VNI
  std::vector<uint8_t> out = f.Take();
  out.insert(out.end(), inner.begin(), inner.end());
  return out;
}

}  // namespace

std::vector<std::vector<uint8_t>> SampleFrames() {
  std::vector<std::vector<uint8_t>> frames;
  // Segments of all flows interleaved, as several senders behind one NIC.
  for (int seg = 0; seg < kSegmentsPerFlow; ++seg) {
    const bool last = seg == kSegmentsPerFlow - 1;
    for (int flow = 0; flow < 8; ++flow) {
      frames.push_back(Tcp4(flow, seg, kMss, last ? 0x18 : 0x10));  // PSH last
    }
    for (int flow = 0; flow < 4; ++flow)
      frames.push_back(Tcp6(flow, seg, kMss6));
    for (int flow = 0; flow < 4; ++flow) {
      frames.push_back(Udp4(flow, seg, last ? 600 : 1200));
    }
    for (int flow = 0; flow < 2; ++flow) {
      frames.push_back(VxlanTcp4(flow, seg, 1398));
    }
    if (seg % 8 == 0) frames.push_back(Tcp4(50, 0, 0, 0x10));  // pure ACK
  }
  return frames;
}

absl::Status WritePcap(const std::string& path,
                       const std::vector<std::vector<uint8_t>>& frames) {
  FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(errno)));
  }
  struct {
    uint32_t magic = 0xa1b2c3d4;
    uint16_t major = 2, minor = 4;
    int32_t zone = 0;
    uint32_t sigfigs = 0, snaplen = 65535, linktype = 1;
  } header;
  std::fwrite(&header, sizeof(header), 1, out);
  uint32_t usec = 0;
  for (const std::vector<uint8_t>& frame : frames) {
    const uint32_t record[4] = {0, usec++, uint32_t(frame.size()),
                                uint32_t(frame.size())};
    std::fwrite(record, sizeof(record), 1, out);
    std::fwrite(frame.data(), frame.size(), 1, out);
  }
  if (std::fclose(out) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot finish '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace grod
