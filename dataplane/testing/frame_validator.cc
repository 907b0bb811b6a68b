#include "dataplane/testing/frame_validator.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/testing/inet_checksum.h"

namespace grod::dataplane::testing {
namespace {

using Bytes = std::vector<uint8_t>;

uint32_t Get16(const Bytes& b, size_t off) {
  return uint32_t(b[off]) << 8 | b[off + 1];
}

using ::grod::testing::Fold;

// One's-complement sum of big-endian 16-bit words, unfolded.
uint64_t Sum(const Bytes& b, size_t off, size_t len) {
  return ::grod::testing::OnesSum(b.data() + off, len);
}

struct Ip {
  size_t off = 0;
  bool v6 = false;
  size_t hdr = 0;     // header bytes
  size_t end = 0;     // end of the IP packet in the frame
  uint8_t proto = 0;  // next header (IPv6 without extension headers)
  bool df = false, mf = false;
  uint32_t frag_off = 0;  // bytes
  bool fragment() const { return mf || frag_off != 0; }
};

// Skips Ethernet + up to two VLAN tags from `off`; returns the L3 offset.
std::optional<size_t> SkipL2(const Bytes& b, size_t off, uint16_t* type) {
  off += 12;
  for (int tags = 0;; ++tags, off += 4) {
    if (off + 2 > b.size()) return std::nullopt;
    *type = uint16_t(Get16(b, off));
    if (tags == 2 || (*type != 0x8100 && *type != 0x88a8 && *type != 0x9100)) {
      return off + 2;
    }
  }
}

// An IP header at off; `zero_len_ok`: a TSO packet whose length field is
// 0 (BIG TCP) runs to the end of the frame.
std::optional<Ip> ParseIp(const Bytes& b, size_t off, uint16_t type,
                          bool zero_len_ok, std::vector<std::string>* err) {
  Ip ip;
  ip.off = off;
  if (type == 0x0800) {
    if (off + 20 > b.size() || (b[off] >> 4) != 4) {
      err->push_back("IPv4 header truncated or wrong version");
      return std::nullopt;
    }
    ip.hdr = (b[off] & 0x0f) * 4u;
    uint32_t total = Get16(b, off + 2);
    if (total == 0 && zero_len_ok) total = b.size() - off;
    if (ip.hdr < 20 || total < ip.hdr || off + total > b.size()) {
      err->push_back(absl::StrCat("IPv4 lengths inconsistent (ihl ", ip.hdr,
                                  ", total ", total, ", frame ", b.size(),
                                  ")"));
      return std::nullopt;
    }
    ip.end = off + total;
    ip.proto = b[off + 9];
    const uint32_t fo = Get16(b, off + 6);
    ip.df = fo & 0x4000;
    ip.mf = fo & 0x2000;
    ip.frag_off = (fo & 0x1fff) * 8;
    return ip;
  }
  if (type == 0x86DD) {
    if (off + 40 > b.size() || (b[off] >> 4) != 6) {
      err->push_back("IPv6 header truncated or wrong version");
      return std::nullopt;
    }
    ip.v6 = true;
    ip.hdr = 40;
    uint32_t payload = Get16(b, off + 4);
    if (payload == 0 && zero_len_ok) payload = b.size() - off - 40;
    if (off + 40 + payload > b.size()) {
      err->push_back("IPv6 payload length past the frame");
      return std::nullopt;
    }
    ip.end = off + 40 + payload;
    ip.proto = b[off + 6];
    return ip;
  }
  return std::nullopt;  // not IP: nothing to check inside
}

// Pseudo-header sum (folded, not inverted) for L4 bytes of length `len`.
uint16_t PseudoSum(const Bytes& b, const Ip& ip, uint32_t len) {
  uint64_t s = ip.v6 ? Sum(b, ip.off + 8, 32) : Sum(b, ip.off + 12, 8);
  s += ip.proto;
  s += len >> 16;
  s += len & 0xffff;
  return Fold(s);
}

// Whether the L4 datagram of `ip` (its bytes through ip.end) checks out.
bool L4SumOk(const Bytes& b, const Ip& ip) {
  const size_t l4 = ip.off + ip.hdr;
  const uint32_t len = ip.end - l4;
  return Fold(uint64_t(PseudoSum(b, ip, len)) + Sum(b, l4, len)) == 0xffff;
}

class Checker {
 public:
  Checker(const TxFrame& f, const PortCapabilities& caps, uint16_t vxlan_port)
      : f_(f), b_(f.bytes), caps_(caps), vxlan_port_(vxlan_port) {}

  std::vector<std::string> Run() {
    CheckFlagsEnabled();
    uint16_t type = 0;
    const std::optional<size_t> l3 = SkipL2(b_, 0, &type);
    if (!l3) {
      err_.push_back("frame shorter than an Ethernet header");
      return err_;
    }
    const bool tso = f_.ol_flags & kTsoFlags;
    std::optional<Ip> outer = ParseIp(b_, *l3, type, tso, &err_);
    if (!outer) {
      if (tso || (f_.ol_flags & kRequests)) {
        err_.push_back("offload requested on a frame that is not IP");
      }
      if (b_.size() - *l3 > caps_.mtu) {
        err_.push_back(absl::StrCat("non-IP frame of ", b_.size() - *l3,
                                    " bytes past L2 above the MTU ",
                                    caps_.mtu));
      }
      CheckSegmentsNoTso();
      return err_;
    }
    // VXLAN: UDP to the VXLAN port, not a fragment, room for the headers.
    std::optional<Ip> inner;
    size_t inner_l3 = 0;
    const size_t ol4 = outer->off + outer->hdr;
    if (outer->proto == 17 && !outer->fragment() && ol4 + 8 <= outer->end &&
        Get16(b_, ol4 + 2) == vxlan_port_) {
      uint16_t itype = 0;
      std::optional<size_t> il3 = SkipL2(b_, ol4 + 16, &itype);
      if (il3 && *il3 < outer->end) {
        inner_l3 = *il3;
        inner = ParseIp(b_, *il3, itype, tso, &err_);
      }
    }
    const Ip& last = inner ? *inner : *outer;
    // Sizes and mbuf counts.
    if (tso) {
      CheckTso(*outer, last, inner.has_value(), inner_l3);
    } else {
      if (b_.size() - outer->off > caps_.mtu) {
        err_.push_back(absl::StrCat("frame of ", b_.size() - outer->off,
                                    " bytes from the IP header on, above the "
                                    "MTU ",
                                    caps_.mtu, " without TSO/USO"));
      }
      CheckSegmentsNoTso();
      if (f_.ol_flags & kRequests) CheckLengths(*outer, last, inner_l3);
    }
    // Checksums, IP layer by layer, then L4.
    if (inner) {
      CheckIp(*outer, RTE_MBUF_F_TX_OUTER_IP_CKSUM, caps_.outer_ipv4_checksum);
      CheckIp(*inner, RTE_MBUF_F_TX_IP_CKSUM, caps_.ipv4_checksum);
      CheckOuterUdp(*outer, tso);
    } else {
      CheckIp(*outer, RTE_MBUF_F_TX_IP_CKSUM, caps_.ipv4_checksum);
    }
    CheckL4(last, tso);
    return err_;
  }

 private:
  static constexpr uint64_t kTsoFlags =
      RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG;
  static constexpr uint64_t kRequests =
      RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK |
      RTE_MBUF_F_TX_OUTER_IP_CKSUM | RTE_MBUF_F_TX_OUTER_UDP_CKSUM | kTsoFlags;

  void Need(bool have, const char* what) {
    if (!have) {
      err_.push_back(absl::StrCat(what,
                                  " requested but not enabled on the "
                                  "port"));
    }
  }

  void CheckFlagsEnabled() {
    const uint64_t fl = f_.ol_flags;
    const bool tunnel = fl & RTE_MBUF_F_TX_TUNNEL_MASK;
    if (tunnel) {
      Need((fl & RTE_MBUF_F_TX_TUNNEL_MASK) == RTE_MBUF_F_TX_TUNNEL_VXLAN &&
               caps_.vxlan_tso,
           "tunnel offload (VXLAN)");
    }
    if (fl & RTE_MBUF_F_TX_TCP_SEG) {
      Need(tunnel ? caps_.vxlan_tso : caps_.tcp_tso, "TCP TSO");
    }
    if (fl & RTE_MBUF_F_TX_UDP_SEG) {
      Need(tunnel ? caps_.vxlan_tso : caps_.udp_tso, "UDP USO");
    }
    if (fl & RTE_MBUF_F_TX_IP_CKSUM) Need(caps_.ipv4_checksum, "IPv4 checksum");
    if (fl & RTE_MBUF_F_TX_OUTER_IP_CKSUM) {
      Need(caps_.outer_ipv4_checksum, "outer IPv4 checksum");
    }
    if (fl & RTE_MBUF_F_TX_OUTER_UDP_CKSUM) {
      Need(caps_.outer_udp_checksum, "outer UDP checksum");
    }
    switch (fl & RTE_MBUF_F_TX_L4_MASK) {
      case 0:
        break;
      case RTE_MBUF_F_TX_TCP_CKSUM:
        Need(caps_.tcp_checksum, "TCP checksum");
        break;
      case RTE_MBUF_F_TX_UDP_CKSUM:
        Need(caps_.udp_checksum, "UDP checksum");
        break;
      default:
        err_.push_back("L4 checksum offload other than TCP/UDP requested");
    }
    const uint64_t other =
        fl & RTE_MBUF_F_TX_OFFLOAD_MASK &
        ~(kRequests | RTE_MBUF_F_TX_TUNNEL_MASK | RTE_MBUF_F_TX_IPV4 |
          RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_OUTER_IPV4 |
          RTE_MBUF_F_TX_OUTER_IPV6);
    if (other) {
      err_.push_back(
          absl::StrCat("other TX offload flags set: 0x", absl::Hex(other)));
    }
    if (f_.nb_segs > 1 && !caps_.multi_segment_tx) {
      err_.push_back(absl::StrCat(f_.nb_segs,
                                  " mbufs but the port has no multi-segment "
                                  "TX"));
    }
    if (f_.nb_segs != f_.seg_lens.size()) {
      err_.push_back("nb_segs does not match the chain");
    }
  }

  void CheckSegmentsNoTso() {
    if (f_.nb_segs > caps_.tx_max_mtu_segments) {
      err_.push_back(absl::StrCat(f_.nb_segs,
                                  " mbufs in one frame, the PMD "
                                  "takes at most ",
                                  caps_.tx_max_mtu_segments));
    }
  }

  // The mbuf lengths a NIC computes offsets from must match the headers.
  void CheckLengths(const Ip& outer, const Ip& last, size_t inner_l3) {
    const size_t l4_hdr = L4HeaderLen(last);
    if (inner_l3 != 0) {
      Expect("outer_l2_len", f_.outer_l2_len, outer.off);
      Expect("outer_l3_len", f_.outer_l3_len, outer.hdr);
      Expect("l2_len", f_.l2_len, inner_l3 - (outer.off + outer.hdr));
    } else {
      Expect("l2_len", f_.l2_len, outer.off);
    }
    Expect("l3_len", f_.l3_len, last.hdr);
    if (f_.ol_flags & kTsoFlags) Expect("l4_len", f_.l4_len, l4_hdr);
  }

  void Expect(const char* what, size_t got, size_t want) {
    if (got != want) {
      err_.push_back(absl::StrCat("mbuf ", what, " ", got,
                                  " but the header "
                                  "says ",
                                  want));
    }
  }

  size_t L4HeaderLen(const Ip& ip) const {
    const size_t l4 = ip.off + ip.hdr;
    if (ip.proto == 6 && l4 + 13 <= b_.size()) return (b_[l4 + 12] >> 4) * 4u;
    return 8;
  }

  void CheckTso(const Ip& outer, const Ip& last, bool tunnel, size_t inner_l3) {
    CheckLengths(outer, last, tunnel ? inner_l3 : 0);
    const uint32_t mss = f_.tso_segsz;
    const size_t hdr_end = last.off + last.hdr + L4HeaderLen(last);
    if (mss == 0 || mss < caps_.tso_min_segsz) {
      err_.push_back(absl::StrCat("tso_segsz ", mss,
                                  " below the port's "
                                  "minimum ",
                                  caps_.tso_min_segsz));
      return;
    }
    if (hdr_end - outer.off + mss > caps_.mtu) {
      err_.push_back(absl::StrCat("TSO segments of ", hdr_end - outer.off + mss,
                                  " bytes above the MTU ", caps_.mtu));
    }
    if (b_.size() - outer.off > caps_.tso_max_bytes) {
      err_.push_back(absl::StrCat("TSO packet of ", b_.size() - outer.off,
                                  " bytes above tso_max_bytes ",
                                  caps_.tso_max_bytes));
    }
    if (f_.nb_segs > caps_.tx_max_segments) {
      err_.push_back(absl::StrCat("TSO packet of ", f_.nb_segs,
                                  " mbufs, the PMD takes at most ",
                                  caps_.tx_max_segments));
    }
    // Mbufs the NIC gathers per segment: the header's, plus each mbuf that
    // holds part of the segment's payload.
    std::vector<size_t> starts;  // offset of each mbuf's first byte
    size_t at = 0;
    for (uint16_t len : f_.seg_lens) {
      starts.push_back(at);
      at += len;
    }
    size_t worst = 0;
    for (size_t s = hdr_end; s < b_.size(); s += mss) {
      const size_t e = std::min(b_.size(), s + mss);
      size_t count = 1;
      for (size_t i = 0; i < starts.size(); ++i) {
        const size_t ms = starts[i], me = ms + f_.seg_lens[i];
        if (ms < e && me > s && me > ms) ++count;
      }
      worst = std::max(worst, count);
    }
    if (worst > caps_.tx_max_mtu_segments) {
      err_.push_back(absl::StrCat("a TSO segment spans ", worst,
                                  " mbufs, the PMD takes at most ",
                                  caps_.tx_max_mtu_segments));
    }
  }

  void CheckIp(const Ip& ip, uint64_t flag, bool enabled) {
    if (!ip.v6) {
      const bool offloaded = (f_.ol_flags & flag) && enabled;
      if (!offloaded && Fold(Sum(b_, ip.off, ip.hdr)) != 0xffff) {
        err_.push_back(
            absl::StrCat("IPv4 header checksum wrong at offset ", ip.off));
      }
      if (ip.fragment()) {
        const uint32_t payload = ip.end - ip.off - ip.hdr;
        if (ip.mf && payload % 8 != 0) {
          err_.push_back(absl::StrCat("fragment with MF of ", payload,
                                      " bytes, not a multiple of 8"));
        }
        if (ip.frag_off + payload > 65535) {
          err_.push_back("fragment past 65535 bytes");
        }
        if (ip.df) err_.push_back("fragment with DF set");
      }
    }
  }

  void CheckOuterUdp(const Ip& outer, bool tso) {
    const size_t udp = outer.off + outer.hdr;
    const uint32_t field = Get16(b_, udp + 6);
    if ((f_.ol_flags & RTE_MBUF_F_TX_OUTER_UDP_CKSUM) &&
        caps_.outer_udp_checksum) {
      const uint32_t want = PseudoSum(b_, outer, tso ? 0 : outer.end - udp);
      if (field != want) {
        err_.push_back("outer UDP checksum offloaded without the pseudo sum");
      }
      return;
    }
    if (field == 0) {
      if (outer.v6) err_.push_back("outer UDP checksum 0 over IPv6");
      return;
    }
    if (tso) {
      err_.push_back(
          "outer UDP checksum set on a TSO packet without its "
          "offload: wrong in every segment");
    } else if (!L4SumOk(b_, outer)) {
      err_.push_back("outer UDP checksum wrong");
    }
  }

  void CheckL4(const Ip& ip, bool tso) {
    if ((ip.proto != 6 && ip.proto != 17) || ip.fragment()) return;
    const size_t l4 = ip.off + ip.hdr;
    const bool tcp = ip.proto == 6;
    if (l4 + (tcp ? 20 : 8) > ip.end) {
      err_.push_back("L4 header truncated");
      return;
    }
    const uint32_t field = Get16(b_, l4 + (tcp ? 16 : 6));
    const uint64_t req = f_.ol_flags & RTE_MBUF_F_TX_L4_MASK;
    const bool offloaded =
        tso ||
        (req == (tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM) &&
         (tcp ? caps_.tcp_checksum : caps_.udp_checksum));
    if (offloaded) {
      const uint32_t want = PseudoSum(b_, ip, tso ? 0 : ip.end - l4);
      if (field != want) {
        err_.push_back(absl::StrCat(tcp ? "TCP" : "UDP",
                                    " checksum offloaded but the field is not "
                                    "the pseudo-header sum"));
      }
      return;
    }
    if (!tcp && field == 0) {
      if (ip.v6) err_.push_back("UDP checksum 0 over IPv6");
      return;
    }
    if (!L4SumOk(b_, ip)) {
      err_.push_back(absl::StrCat(tcp ? "TCP" : "UDP", " checksum wrong"));
    }
  }

  const TxFrame& f_;
  const Bytes& b_;
  const PortCapabilities& caps_;
  const uint16_t vxlan_port_;
  std::vector<std::string> err_;
};

}  // namespace

TxFrame Capture(const rte_mbuf* m) {
  TxFrame f;
  f.bytes.resize(m->pkt_len);
  const void* d = rte_pktmbuf_read(m, 0, m->pkt_len, f.bytes.data());
  if (d != f.bytes.data()) memcpy(f.bytes.data(), d, m->pkt_len);
  f.ol_flags = m->ol_flags;
  f.nb_segs = m->nb_segs;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    f.seg_lens.push_back(s->data_len);
  }
  f.tso_segsz = m->tso_segsz;
  f.l2_len = m->l2_len;
  f.l3_len = m->l3_len;
  f.l4_len = m->l4_len;
  f.outer_l2_len = m->outer_l2_len;
  f.outer_l3_len = m->outer_l3_len;
  return f;
}

std::vector<TxFrame> CollectTxFrames(RingPort& port) {
  std::vector<TxFrame> out;
  for (rte_mbuf* m : port.CollectMbufs()) {
    out.push_back(Capture(m));
    rte_pktmbuf_free(m);
  }
  return out;
}

std::vector<std::string> ValidateTxFrame(const TxFrame& f,
                                         const PortCapabilities& caps,
                                         uint16_t vxlan_port) {
  return Checker(f, caps, vxlan_port).Run();
}

std::vector<std::string> ValidateTxFrames(const std::vector<TxFrame>& frames,
                                          const PortCapabilities& caps) {
  std::vector<std::string> all;
  for (size_t i = 0; i < frames.size(); ++i) {
    for (std::string& e : ValidateTxFrame(frames[i], caps)) {
      all.push_back(absl::StrCat("frame ", i, ": ", e));
    }
  }
  return all;
}

}  // namespace grod::dataplane::testing
