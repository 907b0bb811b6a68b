// Software GSO (Segment): every output segment must be byte for byte what a
// plain reference segmenter (below, written from the TSO rules with its own
// big-endian checksum) makes of the merged packet, whichever way Segment
// builds it: in place in the original mbufs, or with header + indirect
// mbufs when the chain is cut elsewhere (odd lengths: checksum words that
// straddle mbufs), shared or without headroom.  Also: TX checksum offload,
// errors, and no mbuf leaked (MbufTest checks both pools).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

uint32_t Get16(const Bytes& b, size_t o) { return b[o] << 8 | b[o + 1]; }
void Put16(Bytes* b, size_t o, uint32_t v) {
  (*b)[o] = uint8_t(v >> 8);
  (*b)[o + 1] = uint8_t(v);
}

// Big-endian 16-bit one's-complement sum, the RFC 1071 way.
uint32_t Sum(const Bytes& b, size_t from, size_t to, uint32_t s = 0) {
  for (size_t i = from; i < to; i += 2) {
    s += b[i] << 8 | (i + 1 < to ? b[i + 1] : 0);
  }
  return s;
}
uint16_t Fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}
uint32_t Pseudo(const Bytes& b, size_t l3, bool v6, uint8_t proto,
                uint32_t len) {
  const uint32_t s = v6 ? Sum(b, l3 + 8, l3 + 40) : Sum(b, l3 + 12, l3 + 20);
  return s + proto + (len >> 16) + (len & 0xffff);
}

struct Layout {
  bool vxlan, outer_v6, v6, tcp;
  uint32_t outer_l3, outer_l4, l3, l4, hdr, mss;
};
Layout LayoutOf(const rte_mbuf* m) {
  const uint64_t f = m->ol_flags;
  Layout l;
  l.vxlan = f & RTE_MBUF_F_TX_TUNNEL_VXLAN;
  l.outer_v6 = f & RTE_MBUF_F_TX_OUTER_IPV6;
  l.v6 = f & RTE_MBUF_F_TX_IPV6;
  l.tcp = f & RTE_MBUF_F_TX_TCP_SEG;
  l.outer_l3 = m->outer_l2_len;
  l.outer_l4 = l.outer_l3 + m->outer_l3_len;
  l.l3 = l.vxlan ? l.outer_l4 + m->l2_len : m->l2_len;
  l.l4 = l.l3 + m->l3_len;
  l.hdr = l.l4 + m->l4_len;
  l.mss = m->tso_segsz;
  return l;
}

void RefIp(Bytes* b, size_t l3, bool v6, size_t end, uint32_t i) {
  if (v6) {
    Put16(b, l3 + 4, end - l3 - 40);
    return;
  }
  Put16(b, l3 + 2, end - l3);
  Put16(b, l3 + 4, Get16(*b, l3 + 4) + i);
  Put16(b, l3 + 10, 0);
  Put16(b, l3 + 10, ~Fold(Sum(*b, l3, l3 + (((*b)[l3] & 0xf) * 4))));
}
void RefL4Sum(Bytes* b, size_t l3, bool v6, size_t l4, uint8_t proto) {
  const size_t field = l4 + (proto == IPPROTO_TCP ? 16 : 6);
  Put16(b, field, 0);
  uint16_t c =
      ~Fold(Sum(*b, l4, b->size(), Pseudo(*b, l3, v6, proto, b->size() - l4)));
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  Put16(b, field, c);
}

// What TSO/USO puts on the wire for a merged packet.
std::vector<Bytes> RefSegment(const Bytes& m, const Layout& l) {
  std::vector<Bytes> out;
  const size_t payload = m.size() - l.hdr;
  const uint32_t seq0 =
      l.tcp ? Get16(m, l.l4 + 4) << 16 | Get16(m, l.l4 + 6) : 0;
  for (uint32_t i = 0; i * l.mss < payload; ++i) {
    const size_t len = std::min<size_t>(l.mss, payload - i * l.mss);
    Bytes b(m.begin(), m.begin() + l.hdr);
    b.insert(b.end(), m.begin() + l.hdr + i * l.mss,
             m.begin() + l.hdr + i * l.mss + len);
    RefIp(&b, l.l3, l.v6, b.size(), i);
    if (l.tcp) {
      const uint32_t seq = seq0 + i * l.mss;
      Put16(&b, l.l4 + 4, seq >> 16);
      Put16(&b, l.l4 + 6, seq & 0xffff);
      if (i > 0) b[l.l4 + 13] &= ~0x80;                      // CWR: first
      if ((i + 1) * l.mss < payload) b[l.l4 + 13] &= ~0x09;  // PSH/FIN: last
    } else {
      Put16(&b, l.l4 + 4, b.size() - l.l4);
    }
    RefL4Sum(&b, l.l3, l.v6, l.l4, l.tcp ? IPPROTO_TCP : IPPROTO_UDP);
    if (l.vxlan) {
      RefIp(&b, l.outer_l3, l.outer_v6, b.size(), i);
      Put16(&b, l.outer_l4 + 4, b.size() - l.outer_l4);
      RefL4Sum(&b, l.outer_l3, l.outer_v6, l.outer_l4, IPPROTO_UDP);
    }
    out.push_back(b);
  }
  return out;
}

const std::array<uint8_t, 16> kV6a = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                      0,    0, 0, 0, 0, 0, 0, 1};
const std::array<uint8_t, 16> kV6b = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                      0,    0, 0, 0, 0, 0, 0, 2};

// A flow's packets, shaped so that GSO of their merge gives them back.
struct Case {
  std::string name;
  bool tcp, v6, vxlan, outer_v6;
  uint32_t mss, last, count;  // payload sizes: count-1 of mss, then last
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Bytes> Frames(const Case& c) {
  std::vector<Bytes> v;
  for (uint32_t i = 0; i < c.count; ++i) {
    PacketSpec s;
    s.proto = c.tcp ? IPPROTO_TCP : IPPROTO_UDP;
    s.v6 = c.v6;
    if (c.v6) {
      s.src_ip = kV6a;
      s.dst_ip = kV6b;
    }
    s.ip_id = uint16_t(0xfffe + i);   // wraps
    s.seq = 0xfffff000u + i * c.mss;  // wraps too
    const uint32_t len = i + 1 < c.count ? c.mss : c.last;
    s.payload = Payload(len, 7 * i + 1);
    if (c.tcp && i + 1 == c.count) s.tcp_flags |= 0x08;  // PSH
    Bytes f = Build(s);
    if (c.vxlan) {
      PacketSpec o;
      o.v6 = c.outer_v6;
      if (c.outer_v6) {
        o.src_ip = kV6b;
        o.dst_ip = kV6a;
      }
      o.ip_id = uint16_t(100 + i);
      o.sport = 5555;
      o.dport = 4789;
      f = BuildVxlan(o, 42, f);
    }
    v.push_back(f);
  }
  return v;
}

class SegmentTest : public EngineTest,
                    public ::testing::WithParamInterface<Case> {
 protected:
  // The engine's merge of the case's packets: a chain of the originals.
  rte_mbuf* Merged(const std::vector<Bytes>& frames) {
    Make();
    for (const Bytes& f : frames) Feed(f);
    ctx_->FlushAll(&col_.out);
    std::vector<rte_mbuf*> v = col_.Take();
    col_.pkts.clear();
    EXPECT_EQ(v.size(), 1u);
    for (size_t i = 1; i < v.size(); ++i) FreePacket(v[i]);
    if (v.empty()) return nullptr;
    EXPECT_TRUE(v[0]->ol_flags &
                (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG));
    EXPECT_EQ(v[0]->nb_segs, frames.size());
    return v[0];
  }
  // A copy of `m` (data and metadata) cut into mbufs of the given sizes,
  // then of sizes[1..] over and over (each at most what fits), each with
  // `headroom`.
  rte_mbuf* Rechain(rte_mbuf* m, const std::vector<uint32_t>& sizes,
                    uint16_t headroom) {
    const Bytes b = ToBytes(m);
    rte_mbuf* head = nullptr;
    rte_mbuf* tail = nullptr;
    for (size_t off = 0, k = 0; off < b.size(); ++k) {
      rte_mbuf* s = rte_pktmbuf_alloc(pool_);
      if (s == nullptr) {
        ADD_FAILURE() << "test pool empty";
        break;
      }
      s->data_off = headroom;
      const size_t want = k < sizes.size() || sizes.size() == 1
                              ? sizes[std::min(k, sizes.size() - 1)]
                              : sizes[1 + (k - 1) % (sizes.size() - 1)];
      const size_t n =
          std::min<size_t>({want, rte_pktmbuf_tailroom(s), b.size() - off});
      memcpy(rte_pktmbuf_append(s, n), b.data() + off, n);
      if (head == nullptr) {
        head = s;
      } else {
        tail->next = s;
        head->nb_segs++;
        head->pkt_len += n;
      }
      tail = s;
      off += n;
    }
    head->ol_flags = m->ol_flags;
    head->tx_offload = m->tx_offload;
    head->packet_type = m->packet_type;
    FreePacket(m);
    return head;
  }
  // Segments m; checks every segment against the reference (and, as
  // the case is built, the original frames) and frees them.
  void Check(rte_mbuf* m, const std::vector<Bytes>& frames, bool in_place,
             uint64_t offloads = 0) {
    const Layout l = LayoutOf(m);
    const Bytes merged = ToBytes(m);
    const std::vector<Bytes> want = RefSegment(merged, l);
    std::vector<const rte_mbuf*> chain;
    for (const rte_mbuf* s = m; s != nullptr; s = s->next) chain.push_back(s);
    const uint16_t l2 = m->l2_len, l3 = m->l3_len, l4 = m->l4_len;
    const uint32_t ptype = m->packet_type;
    const unsigned direct_before = rte_mempool_in_use_count(pool_);

    rte_mbuf* out[128];
    const int n = Segment(m, pool_, IndirectPool(), out, 128, offloads);
    ASSERT_EQ(n, int(want.size()));
    ASSERT_EQ(n, int(frames.size()));
    const bool hw =
        !l.vxlan && (offloads & (l.tcp ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM
                                       : RTE_ETH_TX_OFFLOAD_UDP_CKSUM));
    for (int i = 0; i < n; ++i) {
      SCOPED_TRACE("segment " + std::to_string(i));
      Bytes got = ToBytes(out[i]);
      EXPECT_EQ(out[i]->pkt_len, got.size());
      if (hw) {
        // The field holds the pseudo-header sum; the NIC does the rest.
        const size_t field = l.l4 + (l.tcp ? 16 : 6);
        const uint8_t proto = l.tcp ? IPPROTO_TCP : IPPROTO_UDP;
        EXPECT_EQ(Get16(got, field),
                  Fold(Pseudo(got, l.l3, l.v6, proto, got.size() - l.l4)));
        EXPECT_EQ(
            out[i]->ol_flags,
            (l.v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
                (l.tcp ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM));
        RefL4Sum(&got, l.l3, l.v6, l.l4, proto);  // as the NIC would
      } else {
        EXPECT_EQ(out[i]->ol_flags, 0u);
      }
      EXPECT_EQ(got, want[i]);
      EXPECT_EQ(got, frames[i]);
      EXPECT_EQ(out[i]->l2_len, l2);
      EXPECT_EQ(out[i]->l3_len, l3);
      EXPECT_EQ(out[i]->l4_len, l4);
      EXPECT_EQ(out[i]->tso_segsz, 0);
      EXPECT_EQ(out[i]->packet_type, ptype);
      if (in_place) {
        EXPECT_EQ(out[i], chain[i]);  // the original mbuf, headers restored
        EXPECT_EQ(out[i]->nb_segs, 1);
      } else {
        EXPECT_GT(out[i]->nb_segs, 1);
      }
    }
    if (in_place) {
      EXPECT_EQ(rte_mempool_in_use_count(pool_), direct_before);
    }
    for (int i = 0; i < n; ++i) rte_pktmbuf_free(out[i]);
  }
};

TEST_P(SegmentTest, InPlaceRestoresTheOriginals) {
  const std::vector<Bytes> f = Frames(GetParam());
  rte_mbuf* m = Merged(f);
  ASSERT_NE(m, nullptr);
  Check(m, f, true);
}

TEST_P(SegmentTest, OddChainsStraddleChecksumWords) {
  const std::vector<Bytes> f = Frames(GetParam());
  for (const std::vector<uint32_t>& sizes : std::vector<std::vector<uint32_t>>{
           {101, 1, 3, 2, 7, 999, 5, 1},
           {67, 1111, 1, 1001, 3, 777},
       }) {
    SCOPED_TRACE(::testing::PrintToString(sizes));
    rte_mbuf* m = Merged(f);
    ASSERT_NE(m, nullptr);
    const uint32_t hdr = LayoutOf(m).hdr;
    std::vector<uint32_t> s = sizes;
    if (s.size() > 1) s[0] += hdr;  // headers in the head, as Segment wants
    Check(Rechain(m, s, RTE_PKTMBUF_HEADROOM), f, false);
  }
}

TEST_P(SegmentTest, AlignedChainWithoutHeadroomUsesHeaderMbufs) {
  const Case& c = GetParam();
  const std::vector<Bytes> f = Frames(c);
  rte_mbuf* m = Merged(f);
  ASSERT_NE(m, nullptr);
  std::vector<uint32_t> sizes(c.count, c.mss);
  sizes[0] += LayoutOf(m).hdr;
  Check(Rechain(m, sizes, 0), f, false);
}

TEST_P(SegmentTest, SharedMemberUsesHeaderMbufs) {
  const std::vector<Bytes> f = Frames(GetParam());
  rte_mbuf* m = Merged(f);
  ASSERT_NE(m, nullptr);
  rte_mbuf* member = m->next;
  rte_mbuf_refcnt_update(member, 1);  // someone else holds it too
  Check(m, f, false);
  EXPECT_EQ(rte_mbuf_refcnt_read(member), 1);
  rte_pktmbuf_free_seg(member);
}

TEST_P(SegmentTest, ChecksumOffloadLeavesThePseudoHeaderSum) {
  const Case& c = GetParam();
  const std::vector<Bytes> f = Frames(c);
  const uint64_t both =
      RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  // In place, with header mbufs, and with only the other protocol's
  // offload (software checksums).
  rte_mbuf* m = Merged(f);
  ASSERT_NE(m, nullptr);
  Check(m, f, true, both);
  m = Merged(f);
  ASSERT_NE(m, nullptr);
  Check(Rechain(m, {LayoutOf(m).hdr + 3, 5, 1}, RTE_PKTMBUF_HEADROOM), f, false,
        both);
  m = Merged(f);
  ASSERT_NE(m, nullptr);
  Check(m, f, true,
        c.tcp ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
}

TEST_P(SegmentTest, FailuresLeaveTheMergedPacketUntouched) {
  const Case& c = GetParam();
  const std::vector<Bytes> f = Frames(c);
  rte_mbuf* m = Merged(f);
  ASSERT_NE(m, nullptr);
  m = Rechain(m, {LayoutOf(m).hdr + 1, 3}, RTE_PKTMBUF_HEADROOM);
  const Bytes before = ToBytes(m);
  rte_mbuf* out[128];
  EXPECT_EQ(Segment(m, pool_, IndirectPool(), out, uint16_t(c.count - 1)),
            -ENOSPC);
  EXPECT_EQ(ToBytes(m), before);
  // No indirect mbufs left: the header-mbuf path fails, frees what it took.
  std::vector<rte_mbuf*> hoard(rte_mempool_avail_count(IndirectPool()));
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(IndirectPool(), hoard.data(), hoard.size()),
            0);
  const unsigned direct = rte_mempool_in_use_count(pool_);
  EXPECT_EQ(Segment(m, pool_, IndirectPool(), out, 128), -ENOMEM);
  EXPECT_EQ(ToBytes(m), before);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), direct);
  // The in-place path needs no mbuf at all.
  rte_mbuf* orig = Merged(f);
  ASSERT_NE(orig, nullptr);
  EXPECT_EQ(Segment(orig, IndirectPool(), IndirectPool(), out, 128),
            int(c.count));
  for (uint32_t i = 0; i < c.count; ++i) rte_pktmbuf_free(out[i]);
  rte_pktmbuf_free_bulk(hoard.data(), hoard.size());
  Check(m, f, false);
}

const Case kCases[] = {
    {"tcp4", true, false, false, false, 1448, 1448, 8},
    {"tcp4_odd", true, false, false, false, 1001, 333, 5},
    {"tcp6_odd_last", true, true, false, false, 1440, 1, 4},
    {"udp4_odd", false, false, false, false, 1399, 77, 6},
    {"udp6", false, true, false, false, 1400, 1400, 3},
    {"two_segments", true, false, false, false, 999, 998, 2},
    {"vxlan4_tcp4", true, false, true, false, 1397, 11, 4},
    {"vxlan6_tcp6", true, true, true, true, 1350, 1350, 3},
    {"vxlan4_udp4", false, false, true, false, 1301, 5, 4},
    {"vxlan6_udp6", false, true, true, true, 1001, 1000, 3},
};
INSTANTIATE_TEST_SUITE_P(Shapes, SegmentTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return i.param.name;
                         });

// TCP flags (CWR first, PSH/FIN last): the TCP shapes only.
class TcpSegmentTest : public SegmentTest {};

std::vector<Case> TcpCases() {
  std::vector<Case> v;
  for (const Case& c : kCases) {
    if (c.tcp) v.push_back(c);
  }
  return v;
}

TEST_P(TcpSegmentTest, FlagsGoWhereTsoPutsThem) {
  const Case& c = GetParam();
  const std::vector<Bytes> f = Frames(c);
  rte_mbuf* m = Merged(f);
  ASSERT_NE(m, nullptr);
  const Layout l = LayoutOf(m);
  rte_pktmbuf_mtod(m, uint8_t*)[l.l4 + 13] |= 0x80 | 0x08 | 0x01;
  const std::vector<Bytes> want = RefSegment(ToBytes(m), l);
  rte_mbuf* out[128];
  const int n = Segment(m, pool_, IndirectPool(), out, 128);
  ASSERT_EQ(n, int(c.count));
  for (int i = 0; i < n; ++i) {
    const Bytes got = ToBytes(out[i]);
    EXPECT_EQ(got, want[i]) << "segment " << i;
    const uint8_t flags = got[l.l4 + 13];
    EXPECT_EQ(bool(flags & 0x80), i == 0) << "CWR, segment " << i;
    EXPECT_EQ(flags & 0x09, i + 1 == n ? 0x09 : 0) << "PSH/FIN, " << i;
    rte_pktmbuf_free(out[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, TcpSegmentTest,
                         ::testing::ValuesIn(TcpCases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return i.param.name;
                         });

TEST_F(EngineTest, PacketWithoutGsoFlagsIsReturnedAsIs) {
  rte_mbuf* m = ToMbuf(pool_, Build(PacketSpec{}));
  rte_mbuf* out[1];
  EXPECT_EQ(Segment(m, pool_, IndirectPool(), out, 1), 1);
  EXPECT_EQ(out[0], m);
  rte_pktmbuf_free(m);
}

TEST_F(EngineTest, HeadersLongerThanTheHeadAreInvalid) {
  rte_mbuf* m = ToMbuf(pool_, Build(PacketSpec{}), 30);
  m->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4;
  m->l2_len = 14;
  m->l3_len = 20;
  m->l4_len = 20;
  m->tso_segsz = 100;
  rte_mbuf* out[8];
  EXPECT_EQ(Segment(m, pool_, IndirectPool(), out, 8), -EINVAL);
  rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace grod::gro::testing
