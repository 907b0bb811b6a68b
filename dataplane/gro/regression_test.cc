// One regression test per bug class fixed in DPDK lib/gro over the years
// (see /work/shared/notes/gro-references.md), run against our engine.
#include <gtest/gtest.h>

#include <map>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

class Regression : public EngineTest {
 protected:
  static PacketSpec Seg(uint32_t i, size_t len = 1000) {
    PacketSpec s;
    s.seq = 5000 + i * 1000;
    s.payload = Payload(len, i);
    return s;
  }
  // TCP payload bytes of a (possibly merged) output.
  static Bytes TcpPayload(const OutPkt& o) {
    const size_t off = o.l2_len + o.l3_len + o.l4_len +
                       (o.ol_flags & RTE_MBUF_F_TX_TUNNEL_VXLAN
                            ? o.outer_l2_len + o.outer_l3_len
                            : 0);
    return Bytes(o.bytes.begin() + off, o.bytes.end());
  }
};

// DPDK: out-of-bounds read on an invalid TCP header length.
TEST_F(Regression, InvalidTcpHeaderLengthNeverReadsOutOfBounds) {
  Make();
  for (uint8_t doff : {0x00, 0x10, 0x40, 0xf0}) {
    PacketSpec s = Seg(0, 4);
    Bytes b = Build(s);
    b[14 + 20 + 12] = doff;  // 0..60 bytes claimed, 24 present
    Feed(b);                 // the mbuf holds exactly these bytes
    auto out = Out(false);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bytes, b);
  }
  EXPECT_EQ(ctx_->counters().passthrough[kPassBadL4Header], 4u);
}

// DPDK: Ethernet minimum-frame padding counted as TCP payload.
TEST_F(Regression, EthernetPaddingIsNotPayload) {
  Make();
  Feed(Build(Seg(0, 6)));  // 60-byte frame: no padding needed
  Bytes padded = Build(Seg(0, 2));
  padded[14 + 20 + 4 + 3] += 6;  // seq follows the first segment
  // (checksum is not verified in this context)
  padded.resize(60, 0);
  Feed(padded);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].bytes, padded);  // passed untouched, nothing merged
  EXPECT_EQ(TcpPayload(out[0]).size(), 6u);
}

// DPDK: payload corrupted when ORing TCP flags into the merged head.
TEST_F(Regression, FlagOrTouchesOnlyTheFlagsByte) {
  Make();
  PacketSpec a = Seg(0), b = Seg(1);
  a.vlans = b.vlans = {5};
  a.ip_options = b.ip_options = {1, 1, 1, 0};
  a.tcp_options = b.tcp_options = {1, 1, 1, 0};
  b.tcp_flags = 0x18;  // ACK|PSH
  Feed(Build(a));
  Feed(Build(b));
  auto out = Out(false);
  ASSERT_EQ(out.size(), 1u);
  Bytes want_payload = a.payload;
  want_payload.insert(want_payload.end(), b.payload.begin(), b.payload.end());
  EXPECT_EQ(TcpPayload(out[0]), want_payload);
  EXPECT_EQ(out[0].bytes[18 + 24 + 13], 0x18);
}

// DPDK: held segments overtaken by a later PSH/FIN packet.
TEST_F(Regression, PshFinNeverOvertakeHeldSegments) {
  Make();
  Feed(Build(Seg(0)));
  Feed(Build(Seg(1)));
  PacketSpec fin = Seg(4);
  fin.tcp_flags = 0x11;
  Feed(Build(fin));  // not adjacent: the flow's held data must go first
  auto out = Out(false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].nb_segs, 2);
  EXPECT_EQ(out[1].bytes, Build(fin));
}

// DPDK: chain index error reordering packets with more than two segments.
// (In order: reordered segments no longer join -- see golden_tcp_test.)
TEST_F(Regression, LongChainsKeepPayloadOrder) {
  Make();
  for (uint32_t i : {0, 1, 2, 3, 4, 5, 6, 7}) Feed(Build(Seg(i)));
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  Bytes want;
  for (uint32_t i = 0; i < 8; ++i) {
    Bytes p = Payload(1000, i);
    want.insert(want.end(), p.begin(), p.end());
  }
  EXPECT_EQ(TcpPayload(out[0]), want);
  EXPECT_EQ(out[0].nb_segs, 8);
}

// DPDK: VXLAN with inner IPv6 merged as if it were IPv4.
TEST_F(Regression, VxlanInnerIpv6IsHandledAsIpv6) {
  Make();
  PacketSpec outer;
  outer.dport = 4789;
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec in6 = Seg(i);
    in6.v6 = true;
    in6.src_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    in6.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    Feed(BuildVxlan(outer, 9, Build(in6)));
    Feed(BuildVxlan(outer, 9, Build(Seg(i))));  // an inner IPv4 flow, same VNI
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  int v6 = 0;
  for (const OutPkt& o : out) {
    EXPECT_EQ(o.nb_segs, 3);
    if (o.ol_flags & RTE_MBUF_F_TX_IPV6) {
      ++v6;
      EXPECT_FALSE(o.ol_flags & RTE_MBUF_F_TX_IPV4);
      EXPECT_EQ(o.l3_len, 40);
      const size_t ip6 = 14 + 20 + 8 + 8 + 14;
      EXPECT_EQ(o.bytes[ip6] >> 4, 6);
      EXPECT_EQ(o.bytes[ip6 + 4] << 8 | o.bytes[ip6 + 5], 20 + 3000);
    }
  }
  EXPECT_EQ(v6, 1);
}

// DPDK: burst-mode flush overwriting packets not yet processed.
TEST_F(Regression, BurstFlushNeverOverwritesUnprocessedPackets) {
  ContextConfig cfg;
  cfg.max_flows = 2;  // forces evictions (outputs) in the middle of the burst
  std::vector<rte_mbuf*> pkts;
  std::map<uint16_t, Bytes> want;
  for (uint32_t i = 0; i < 96; ++i) {
    PacketSpec s = Seg(i / 8);
    s.sport = uint16_t(1 + i % 8);
    pkts.push_back(ToMbuf(pool_, Build(s)));
    want[s.sport].insert(want[s.sport].end(), s.payload.begin(),
                         s.payload.end());
  }
  const uint16_t n =
      ReassembleBurst(pkts.data(), pkts.size(), Mode::kMerge, cfg);
  std::map<uint16_t, Bytes> got;
  for (uint16_t i = 0; i < n; ++i) {
    OutPkt o = Consume(pkts[i]);
    Bytes p = TcpPayload(o);
    Bytes& g = got[o.bytes[34] << 8 | o.bytes[35]];
    g.insert(g.end(), p.begin(), p.end());
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace grod::gro::testing
