#include "dataplane/testing/fast_path_streams.h"

#include <functional>

namespace grod::gro::testing {

StreamGen::Flow StreamGen::NewFlow(int id) {
  Flow f;
  PacketSpec& s = f.s;
  const int kind = R(0, 9);  // 0-3 TCP4, 4-5 TCP6, 6-7 UDP4, 8 UDP6, 9 VXLAN
  s.sport = uint16_t(1000 + id % 3);  // few ports: twins across ports
  s.dport = uint16_t(2000 + id / 3);
  if (kind == 4 || kind == 5 || kind == 8) {
    s.v6 = true;
    s.src_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    s.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    s.flow_label = uint32_t(R(0, 0xfffff));
  }
  if (kind >= 6 && kind <= 8) s.proto = IPPROTO_UDP;
  f.vxlan = kind == 9;
  if (P(0.25)) s.vlans = {uint16_t(R(0, 4095))};
  if (P(0.05)) s.vlans = {uint16_t(R(1, 4094)), uint16_t(R(0, 4095))};
  s.df = P(0.5);
  s.ip_id = uint16_t(R(0, 65535));
  s.ack = uint32_t(R(0, 1 << 30));
  s.seq = uint32_t(R(0, 1 << 30)) * 4u;
  s.ttl = uint8_t(R(1, 255));
  if (P(0.3)) s.tcp_options = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3};
  if (P(0.1) && !s.v6) s.ip_options = {1, 1, 1, 0};
  if (P(0.1)) s.zero_udp_checksum = true;
  f.mss = std::vector<int>{1, 16, 100, 700, 1448}[R(0, 4)];
  f.mode = P(0.35) ? Mode::kList : Mode::kMerge;
  f.port = uint16_t(R(0, 1));
  f.psh_often = P(0.2);
  return f;
}

Bytes StreamGen::Frame(const Flow& f) {
  Bytes b = Build(f.s);
  if (f.vxlan) {
    PacketSpec outer;
    outer.dport = 4789;
    b = BuildVxlan(outer, 77, b);
  }
  return b;
}

StreamPacket StreamGen::Next(Flow* fp) {
  Flow& f = *fp;
  PacketSpec s = f.s;
  int len = P(0.05) ? R(0, f.mss) : f.mss;
  s.payload = Payload(len, R(0, 1 << 30));
  Mode mode = f.mode;
  uint16_t port = f.port;
  uint32_t split = 0;
  bool at_end = false;
  bool fix = true;  // recompute checksums after a header mutation
  std::function<void(Bytes*)> raw;
  if (f.psh_often && P(0.4)) s.tcp_flags |= 0x08;
  if (P(0.25)) {
    switch (R(0, 27)) {
      case 0:
        s.ttl++;
        break;
      case 1:
        s.tos ^= 4;
        break;
      case 2:
        s.df = !s.df;
        break;
      case 3:
        s.tcp_flags = std::vector<uint8_t>{0x18, 0x11, 0x02, 0x00,
                                           0x30, 0x50, 0x90, 0x04}[R(0, 7)];
        break;
      case 4:
        s.ack++;
        break;
      case 5:
        s.ip_id += uint16_t(R(1, 3));
        break;
      case 6:
        s.ip_id--;
        break;
      case 7:
        if (!s.tcp_options.empty()) s.tcp_options[R(0, 11)] ^= 1;
        break;
      case 8:
        s.ip_options = {1, 1, 1, 0};
        break;
      case 9:
        s.flow_label ^= 1;
        break;
      case 10:
        s.seq += uint32_t(R(1, 3)) * uint32_t(f.mss ? f.mss : 1);
        break;  // gap
      case 11:
        s.seq -= uint32_t(f.mss);
        break;  // duplicate
      case 12:
        port ^= 1;
        break;
      case 13:
        s.src_mac[5] ^= 1;
        break;
      case 14:
        s.vlans = s.vlans.empty() ? std::vector<uint16_t>{5}
                                  : std::vector<uint16_t>{};
        break;
      case 15:
        s.zero_udp_checksum = !s.zero_udp_checksum;
        break;
      case 16:
        mode = Mode(R(1, 3));
        break;
      case 17:
        split = uint32_t(R(1, 80));
        break;
      case 18:
        at_end = true;
        break;
      case 19:
        s.payload.clear();
        break;
      default: {
        // Raw byte surgery on a field the fast path masks or checks.
        fix = false;
        const int what = R(0, 9);
        raw = [this, what](Bytes* b) { Surgery(b, what); };
      }
    }
  }
  Bytes b = Frame(Flow{s, mode, port, f.mss, f.vxlan});
  if (raw) raw(&b);
  if (!fix && !f.vxlan && P(0.5)) FixChecksums(&b);
  // Advance the flow as if the unmutated packet had been sent.
  f.s.seq += uint32_t(len);
  f.s.ip_id++;
  if (P(0.01)) f.mode = f.mode == Mode::kMerge ? Mode::kList : Mode::kMerge;
  // A checksum verdict as a NIC might give (none, GOOD, or BAD), which
  // the engine trusts with verify_checksums -- also for packets whose
  // checksums were corrupted above: both paths must trust it alike.
  const uint64_t verdicts[] = {
      0,
      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD,
      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD,
      RTE_MBUF_F_RX_L4_CKSUM_GOOD,
      RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_GOOD,
      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_BAD,
      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_NONE,
      RTE_MBUF_F_RX_L4_CKSUM_NONE,
      RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_GOOD,
      RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_BAD,
      RTE_MBUF_F_RX_LRO,  // already aggregated: never merged
  };
  const uint64_t rx = P(0.5) ? verdicts[R(0, 10)] : 0;
  return StreamPacket{b, mode, port, split, at_end, rx};
}

void StreamGen::Surgery(Bytes* bp, int what) {
  Bytes& b = *bp;
  size_t l3 = 14;
  while (l3 + 4 <= b.size() && (b[l3 - 2] == 0x81 || b[l3 - 2] == 0x88)) {
    l3 += 4;
  }
  if (l3 + 40 > b.size()) return;
  const bool v6 = (b[l3] >> 4) == 6;
  const size_t l4 = v6 ? l3 + 40 : l3 + (b[l3] & 15) * 4u;
  if (l4 + 20 > b.size()) return;
  switch (what) {
    case 0:
      b[l4 + 16] ^= 0x5a;
      break;  // TCP checksum / UDP payload
    case 1:
      b[l4 + 14] ^= 1;
      break;  // window / payload
    case 2:
      b[l4 + 18] ^= 1;
      break;  // urgent pointer / payload
    case 3:
      b[l3 + (v6 ? 5 : 3)] += 1;
      break;  // IP length + 1
    case 4:
      b[l3 + (v6 ? 5 : 3)] -= 1;
      break;  // IP length - 1
    case 5:
      b[l4 + 5] ^= 1;
      break;  // UDP length / TCP seq
    case 6:
      b.resize(b.size() - R(1, 8));
      break;  // truncated
    case 7:
      b.insert(b.end(), size_t(R(1, 8)), 0);
      break;  // padding
    case 8:
      b[l4 + 12] ^= 0x01;
      break;  // TCP reserved bit / payload
    default:
      b[l3 + 6] ^= 0x80;
      break;  // IPv4 reserved bit / v6 NH
  }
}

std::string Describe(const OutPkt& o) {
  std::string s = "flags=" + std::to_string(o.ol_flags) +
                  " tso=" + std::to_string(o.tso_segsz) +
                  " segs=" + std::to_string(o.nb_segs) +
                  " lens=" + std::to_string(o.l2_len) + "/" +
                  std::to_string(o.l3_len) + "/" + std::to_string(o.l4_len) +
                  "/" + std::to_string(o.outer_l2_len) + "/" +
                  std::to_string(o.outer_l3_len) +
                  " ptype=" + std::to_string(o.packet_type) +
                  " list=" + std::to_string(o.list) + " bytes=";
  for (uint8_t c : o.bytes) s += char(c);
  s += " members=" + std::to_string(o.members.size());
  for (const Bytes& m : o.members) s += std::string(m.begin(), m.end()) + "|";
  return s;
}

}  // namespace grod::gro::testing
