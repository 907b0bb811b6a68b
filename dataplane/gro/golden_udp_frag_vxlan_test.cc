// Golden tests: UDP datagram coalescing, IPv4 fragment reassembly, and all
// types inside VXLAN over outer IPv4/IPv6.
#include <gtest/gtest.h>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

const std::array<uint8_t, 16> kV6a = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                      0,    0, 0, 0, 0, 0, 0, 1};
const std::array<uint8_t, 16> kV6b = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                      0,    0, 0, 0, 0, 0, 0, 2};

PacketSpec Udp(size_t len, uint32_t seed, bool v6 = false) {
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.v6 = v6;
  if (v6) {
    s.src_ip = kV6a;
    s.dst_ip = kV6b;
  }
  s.payload = Payload(len, seed);
  return s;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}

class UdpGolden : public EngineTest,
                  public ::testing::WithParamInterface<bool> {};

TEST_P(UdpGolden, EqualDatagramsWithShorterLastCoalesce) {
  const bool v6 = GetParam();
  Make();
  for (uint32_t i = 0; i < 3; ++i) Feed(Build(Udp(500, i, v6)));
  Feed(Build(Udp(200, 3, v6)));
  EXPECT_EQ(ctx_->held_flows(), 0u);  // a short datagram ends the train
  Feed(Build(Udp(500, 4, v6)));
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  PacketSpec want = Udp(0, 0, v6);
  want.payload = Concat(
      {Payload(500, 0), Payload(500, 1), Payload(500, 2), Payload(200, 3)});
  EXPECT_EQ(out[0].bytes, AsMergedHeaders(Build(want), false));
  EXPECT_TRUE(out[0].ol_flags & RTE_MBUF_F_TX_UDP_SEG);
  EXPECT_EQ(out[0].tso_segsz, 500);
  EXPECT_EQ(out[0].l4_len, 8);
  EXPECT_EQ(out[1].bytes, Build(Udp(500, 4, v6)));
}

TEST_P(UdpGolden, LargerDatagramStartsANewTrain) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(Udp(500, 0, v6)));
  Feed(Build(Udp(500, 1, v6)));
  Feed(Build(Udp(600, 2, v6)));
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].nb_segs, 2);
  EXPECT_EQ(out[1].bytes, Build(Udp(600, 2, v6)));
}

// A zero UDP checksum is never merged (Linux): the datagram passes after
// what its flow holds.
TEST_P(UdpGolden, ZeroChecksumNeverMerges) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(Udp(500, 0, v6)));
  PacketSpec z = Udp(500, 1, v6);
  z.zero_udp_checksum = true;
  Feed(Build(z));
  Feed(Build(z));
  EXPECT_EQ(Out().size(), 3u);
  EXPECT_EQ(ctx_->counters().flushes[kFlushPassthrough], 1u);
  EXPECT_EQ(ctx_->counters().passthrough[kPassUdpZeroChecksum], 2u);
}

TEST_P(UdpGolden, ListKeepsDatagrams) {
  const bool v6 = GetParam();
  Make();
  std::vector<Bytes> in;
  for (uint32_t i = 0; i < 4; ++i) {
    in.push_back(Build(Udp(700, i, v6)));
    Feed(in.back(), Mode::kList);
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].list);
  EXPECT_EQ(out[0].members, in);
}

INSTANTIATE_TEST_SUITE_P(V4V6, UdpGolden, ::testing::Bool(),
                         [](const auto& i) { return i.param ? "v6" : "v4"; });

class FragGolden : public EngineTest {
 protected:
  Bytes Datagram(uint16_t id = 77) {
    PacketSpec s = Udp(3000, 9);
    s.df = false;
    s.ip_id = id;
    return Build(s);
  }
};

TEST_F(FragGolden, InOrderFragmentsReassembleToTheOriginal) {
  Make();
  const Bytes d = Datagram();
  auto frags = Fragment(d, 1000);
  ASSERT_EQ(frags.size(), 4u);
  for (const Bytes& f : frags) Feed(f);
  EXPECT_EQ(ctx_->held_flows(), 0u);  // complete: flushed at once
  auto out = Out(false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, d);
  EXPECT_EQ(out[0].packet_type & RTE_PTYPE_L4_MASK, RTE_PTYPE_L4_UDP);
}

TEST_F(FragGolden, OutOfOrderFragmentsReassemble) {
  Make();
  const Bytes d = Datagram();
  auto frags = Fragment(d, 1000);
  for (int i : {3, 1, 0, 2}) Feed(frags[i]);
  auto out = Out(false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, d);
}

TEST_F(FragGolden, IncompleteSetLeavesAsLargerFragments) {
  Make();
  const Bytes d = Datagram();
  auto frags = Fragment(d, 1000);
  Feed(frags[0]);
  Feed(frags[1]);
  Feed(frags[3]);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, Fragment(d, 2000)[0]);
  EXPECT_EQ(out[1].bytes, frags[3]);
}

TEST_F(FragGolden, InterleavedDatagramsAndList) {
  Make();
  auto a = Fragment(Datagram(1), 1000), b = Fragment(Datagram(2), 1000);
  for (size_t i = 0; i < a.size(); ++i) {
    Feed(a[i], Mode::kList);
    Feed(b[i], Mode::kList);
  }
  auto out = Out(false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].members, a);
  EXPECT_EQ(out[1].members, b);
}

TEST_F(FragGolden, OverlapPassesAfterFlush) {
  Make();
  auto f = Fragment(Datagram(), 1000);
  Feed(f[0]);
  Feed(f[0]);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(ctx_->counters().passthrough[kPassDuplicate], 1u);
}

class VxlanGolden
    : public EngineTest,
      public ::testing::WithParamInterface<std::tuple<bool, bool>> {
 protected:
  bool outer_v6() const { return std::get<0>(GetParam()); }
  bool inner_v6() const { return std::get<1>(GetParam()); }
  PacketSpec Outer(uint16_t id) const {
    PacketSpec o;
    o.v6 = outer_v6();
    if (o.v6) {
      o.src_ip = kV6a;
      o.dst_ip = kV6b;
      o.src_ip[1] = o.dst_ip[1] = 0x99;
    } else {
      o.src_ip = {192, 168, 0, 1};
      o.dst_ip = {192, 168, 0, 2};
      o.df = false;  // outer IDs must then increment
      o.ip_id = id;
    }
    o.sport = 50000;
    o.dport = 4789;
    return o;
  }
  PacketSpec Inner(uint32_t seq, size_t len) const {
    PacketSpec s;
    s.v6 = inner_v6();
    if (s.v6) {
      s.src_ip = kV6a;
      s.dst_ip = kV6b;
    }
    s.seq = seq;
    s.payload = Payload(len, seq);
    return s;
  }
};

TEST_P(VxlanGolden, TcpMergesWithTunnelMetadata) {
  Make();
  for (uint32_t i = 0; i < 4; ++i) {
    Feed(BuildVxlan(Outer(100 + i), 42, Build(Inner(i * 1000, 1000))));
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  PacketSpec in = Inner(0, 0);
  in.payload = Concat({Payload(1000, 0), Payload(1000, 1000),
                       Payload(1000, 2000), Payload(1000, 3000)});
  EXPECT_EQ(out[0].bytes,
            AsMergedHeaders(BuildVxlan(Outer(100), 42, Build(in)), true));
  EXPECT_TRUE(out[0].ol_flags & RTE_MBUF_F_TX_TUNNEL_VXLAN);
  EXPECT_TRUE(out[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_TRUE(out[0].ol_flags & (outer_v6() ? RTE_MBUF_F_TX_OUTER_IPV6
                                            : RTE_MBUF_F_TX_OUTER_IPV4));
  EXPECT_TRUE(out[0].ol_flags &
              (inner_v6() ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4));
  EXPECT_EQ(out[0].outer_l2_len, 14);
  EXPECT_EQ(out[0].outer_l3_len, outer_v6() ? 40 : 20);
  EXPECT_EQ(out[0].l2_len, 8 + 8 + 14);
  EXPECT_EQ(out[0].l3_len, inner_v6() ? 40 : 20);
  EXPECT_EQ(out[0].l4_len, 20);
  EXPECT_EQ(out[0].tso_segsz, 1000);
}

TEST_P(VxlanGolden, DifferentVniOrOuterIdGapSplits) {
  Make();
  Feed(BuildVxlan(Outer(1), 42, Build(Inner(0, 1000))));
  Feed(BuildVxlan(Outer(7), 43, Build(Inner(1000, 1000))));  // other VNI
  Feed(BuildVxlan(Outer(2), 42, Build(Inner(1000, 1000))));
  EXPECT_EQ(ctx_->held_flows(), 2u);
  Feed(BuildVxlan(Outer(9), 42, Build(Inner(2000, 1000))));
  auto out = Out();
  // Outer IPv4 with DF=0: the ID jump 2 -> 9 prevents the merge.
  EXPECT_EQ(out.size(), outer_v6() ? 2u : 3u);
}

TEST_P(VxlanGolden, UdpAndListInside) {
  Make();
  std::vector<Bytes> in;
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec u = Inner(0, 0);
    u.proto = IPPROTO_UDP;
    u.payload = Payload(800, i);
    Feed(BuildVxlan(Outer(i), 7, Build(u)));
    in.push_back(BuildVxlan(Outer(10 + i), 8, Build(u)));
    Feed(in.back(), Mode::kList);
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].nb_segs, 3);
  EXPECT_TRUE(out[0].ol_flags & RTE_MBUF_F_TX_UDP_SEG);
  EXPECT_EQ(out[1].members, in);
}

TEST_P(VxlanGolden, DisabledVxlanPasses) {
  ContextConfig cfg;
  cfg.gro_types = kAll & ~kVxlan;
  Make(cfg);
  Feed(BuildVxlan(Outer(1), 42, Build(Inner(0, 1000))));
  Feed(BuildVxlan(Outer(2), 42, Build(Inner(1000, 1000))));
  EXPECT_EQ(Out().size(), 2u);
  EXPECT_EQ(ctx_->counters().passthrough[kPassTypeDisabled], 2u);
}

INSTANTIATE_TEST_SUITE_P(
    OuterInner, VxlanGolden,
    ::testing::Combine(::testing::Bool(), ::testing::Bool()),
    [](const auto& i) {
      return std::string(std::get<0>(i.param) ? "outer6" : "outer4") +
             (std::get<1>(i.param) ? "_inner6" : "_inner4");
    });

class VxlanFragGolden : public EngineTest {};

TEST_F(VxlanFragGolden, InnerFragmentsAndCustomPort) {
  ContextConfig cfg;
  cfg.vxlan_port = 8472;
  Make(cfg);
  PacketSpec d = Udp(2000, 5);
  d.df = false;
  d.ip_id = 5;
  const Bytes datagram = Build(d);
  PacketSpec o;
  o.dport = 8472;
  o.src_ip = {192, 168, 0, 1};
  for (const Bytes& f : Fragment(datagram, 1000)) Feed(BuildVxlan(o, 3, f));
  auto out = Out(false);
  ASSERT_EQ(out.size(), 1u);
  Bytes want = BuildVxlan(o, 3, datagram);
  want[14 + 20 + 6] = want[14 + 20 + 7] = 0;  // outer UDP checksum
  EXPECT_EQ(out[0].bytes, want);
  // The inner datagram is byte-identical to the unfragmented original.
  EXPECT_EQ(Bytes(out[0].bytes.begin() + 50, out[0].bytes.end()), datagram);
}

}  // namespace
}  // namespace grod::gro::testing
