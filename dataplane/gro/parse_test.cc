// Parser tests: classification fields, and malformed input passing through
// the engine untouched, counted by reason.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/parse_common.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

class ParseTest : public EngineTest {
 protected:
  ParsedPacket ParseBytes(const Bytes& b, uint32_t split = 0) {
    rte_mbuf* m = ToMbuf(pool_, b, split);
    ParsedPacket p;
    Parse(m, {}, &p);
    rte_pktmbuf_free(m);
    return p;
  }
  // Feeds `bad` between two mergeable segments and checks it leaves
  // untouched with `why`, without disturbing the flow.
  void ExpectPassthrough(const Bytes& bad, PassReason why) {
    SCOPED_TRACE(kPassReasonNames[why]);
    Make();
    PacketSpec s;
    s.payload = Payload(100, 1);
    Feed(bad);
    auto out = Out(false);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bytes, bad);
    EXPECT_EQ(ctx_->counters().passthrough[why], 1u);
    ctx_.reset();
  }
};

TEST_F(ParseTest, ClassificationFields) {
  PacketSpec s;
  s.vlans = {0x2064};
  s.payload = Payload(10, 0);
  ParsedPacket p = ParseBytes(Build(s));
  EXPECT_EQ(p.reason, kPassNone);
  EXPECT_EQ(p.type, kTcp4);
  EXPECT_EQ(p.vlan_id, 0x64);
  EXPECT_FALSE(p.has_vni);
  EXPECT_FALSE(p.dst_is_v6);
  EXPECT_EQ(p.dst_ip[3], 2);
  EXPECT_EQ(p.l3_off, 18);
  EXPECT_EQ(p.payload_off, 18 + 40);
  EXPECT_EQ(p.payload_len, 10u);

  PacketSpec inner;
  inner.v6 = true;
  inner.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  inner.proto = IPPROTO_UDP;
  inner.payload = Payload(10, 0);
  PacketSpec outer;
  outer.dport = 4789;
  p = ParseBytes(BuildVxlan(outer, 0xabcdef, Build(inner)));
  EXPECT_EQ(p.reason, kPassNone);
  EXPECT_TRUE(p.has_vni);
  EXPECT_EQ(p.vni, 0xabcdefu);
  EXPECT_TRUE(p.dst_is_v6);
  EXPECT_EQ(p.dst_ip[15], 9);
  EXPECT_EQ(p.type, kUdp6);
  EXPECT_EQ(p.vlan_id, 0);
}

TEST_F(ParseTest, MalformedPassesUntouched) {
  PacketSpec s;
  s.payload = Payload(100, 1);
  const Bytes good = Build(s);

  Bytes b = good;
  b.resize(30);  // inside the IP header
  ExpectPassthrough(b, kPassTruncated);

  b = good;
  b[14] = 0x44;  // IHL 4
  ExpectPassthrough(b, kPassBadIpHeader);

  b = good;
  b[16] = 0x10;  // total length 4096 > frame
  ExpectPassthrough(b, kPassIpLength);

  b = good;
  b[34 + 12] = 0xf0;  // data offset 60 > segment: the DPDK OOB read class
  b.resize(14 + 20 + 40);
  b[17] = 60;  // IP length 60: doff reaches past the datagram
  b[16] = 0;
  ExpectPassthrough(b, kPassBadL4Header);

  b = good;
  b[34 + 12] = 0x40;  // data offset 16 < 20
  ExpectPassthrough(b, kPassBadL4Header);

  b = good;
  b[12] = 0x08;
  b[13] = 0x06;  // ARP
  ExpectPassthrough(b, kPassNotIp);

  b = good;
  b[23] = 47;  // GRE
  ExpectPassthrough(b, kPassUnsupportedL4);

  PacketSpec u;
  u.proto = IPPROTO_UDP;
  u.payload = Payload(20, 1);
  b = Build(u);
  b[34 + 5] = 200;  // UDP length disagrees with IP
  ExpectPassthrough(b, kPassBadL4Header);

  b = Build(u);
  b.resize(b.size() + 6, 0);  // Ethernet padding after the datagram
  ExpectPassthrough(b, kPassEthPadding);
}

TEST_F(ParseTest, PaddingIsNeverCountedAsPayload) {
  // DPDK bug class: minimum-frame padding merged as payload.
  Make();
  PacketSpec a;
  a.payload = Payload(1000, 0);
  PacketSpec b;
  b.seq = 2000;
  b.payload = Payload(2, 1);
  Bytes bb = Build(b);
  bb.resize(60, 0xee);  // padded to the Ethernet minimum
  Feed(Build(a));
  Feed(bb);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, Build(a));
  EXPECT_EQ(out[1].bytes, bb);
  EXPECT_EQ(ctx_->counters().passthrough[kPassEthPadding], 1u);
}

TEST_F(ParseTest, MultiSegmentInput) {
  PacketSpec s;
  s.payload = Payload(500, 1);
  const Bytes b = Build(s);
  EXPECT_EQ(ParseBytes(b, 40).reason, kPassMultiSeg);  // TCP header split
  EXPECT_EQ(ParseBytes(b, 100).reason, kPassNone);     // payload split
  // Segments split inside the payload still merge.
  Make();
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec t;
    t.seq = 1000 + i * 500;
    t.payload = Payload(500, i);
    Feed(Build(t), Mode::kMerge, 0, 100);
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].nb_segs, 6);
  EXPECT_EQ(out[0].bytes.size(), 54u + 1500);
}

TEST_F(ParseTest, ChecksumVerification) {
  ContextConfig cfg;
  cfg.verify_checksums = true;
  Make(cfg);
  PacketSpec s;
  s.payload = Payload(1000, 0);
  Feed(Build(s));
  s.seq += 1000;
  Bytes bad = Build(s);
  bad[60] ^= 1;  // payload byte: TCP checksum now wrong
  Feed(bad);
  s.seq += 1000;
  Feed(Build(s));
  auto out = Out();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].bytes, bad);
  EXPECT_EQ(ctx_->counters().passthrough[kPassBadChecksum], 1u);
}

TEST_F(ParseTest, DisabledTypePasses) {
  ContextConfig cfg;
  cfg.gro_types = kAll & ~kTcp4;
  Make(cfg);
  PacketSpec s;
  s.payload = Payload(100, 0);
  Feed(Build(s));
  s.seq += 100;
  Feed(Build(s));
  EXPECT_EQ(Out().size(), 2u);
  EXPECT_EQ(ctx_->counters().passthrough[kPassTypeDisabled], 2u);
}

// The common-case parser takes only packets the general parser accepts in
// full, and gives byte-identical results for them: random plain packets
// (which it must take) and mutated ones (VLANs, options, fragments, VXLAN,
// truncation, bad lengths, random header bytes, split mbufs, padding).
TEST_F(ParseTest, CommonCaseParserAgreesWithTheGeneralOne) {
  ASSERT_TRUE(InitDpdk());
  std::mt19937 rng(7);
  auto r = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  int taken = 0, plain = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    PacketSpec s;
    s.v6 = r(0, 2) == 0;
    if (s.v6) {
      s.src_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
      s.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
      s.flow_label = uint32_t(r(0, 0xfffff));
    }
    s.proto = r(0, 2) == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    s.sport = uint16_t(r(1, 65535));
    s.dport = uint16_t(r(0, 4) == 0 ? 4789 : r(1, 65535));
    s.seq = uint32_t(rng());
    s.ack = uint32_t(rng());
    s.ttl = uint8_t(r(0, 255));
    s.tos = uint8_t(r(0, 255));
    s.ip_id = uint16_t(r(0, 65535));
    s.df = r(0, 1);
    s.tcp_flags = uint8_t(r(0, 3) == 0 ? r(0, 255) : 0x10);
    s.zero_udp_checksum = r(0, 5) == 0;
    s.payload = Payload(r(0, 3) == 0 ? 0 : r(1, 300), iter);
    bool mutated = true;
    switch (r(0, 9)) {
      case 0:
        s.vlans = {uint16_t(r(0, 4095))};
        break;
      case 1:
        if (!s.v6) s.ip_options = {1, 1, 1, 0};
        break;
      case 2:
        if (!s.v6) {
          s.mf = r(0, 1);
          s.frag_off = uint16_t(8 * r(0, 3));
        }
        break;
      case 3:
        s.tcp_options = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3};
        break;
      default:
        mutated = false;
    }
    Bytes b = Build(s);
    if (r(0, 9) == 0) {  // VXLAN: the general parser's
      PacketSpec outer;
      outer.dport = 4789;
      b = BuildVxlan(outer, 5, b);
      mutated = true;
    }
    switch (r(0, 11)) {
      case 0:
        b.resize(size_t(r(0, int(b.size()))));  // truncated
        mutated = true;
        break;
      case 1:
        b.resize(b.size() + size_t(r(1, 20)), 0);  // Ethernet padding
        mutated = true;
        break;
      case 2:
      case 3:
        if (!b.empty()) {  // any header byte
          b[size_t(r(0, std::min<int>(int(b.size()) - 1, 80)))] ^=
              uint8_t(1 << r(0, 7));
          mutated = true;
        }
        break;
    }
    const uint32_t split =
        r(0, 7) == 0 && b.size() > 2 ? uint32_t(r(1, int(b.size()) - 1)) : 0;
    mutated |= split != 0;
    rte_mbuf* m = ToMbuf(pool_, b, split);
    ASSERT_NE(m, nullptr);
    m->port = uint16_t(r(0, 3));
    const ParseConfig cfg{4789};
    alignas(16) ParsedPacket fast, general;
    memset(&fast, 0, sizeof(fast));
    memset(&general, 0, sizeof(general));
    internal::ParseGeneral(m, cfg, &general);
    if (internal::ParseCommon(m, cfg, &fast)) {
      ++taken;
      ASSERT_EQ(memcmp(&fast, &general, sizeof(fast)), 0) << "packet " << iter;
    } else {
      // Untouched when declined.
      ParsedPacket zero;
      memset(&zero, 0, sizeof(zero));
      ASSERT_EQ(memcmp(&fast, &zero, sizeof(fast)), 0) << "packet " << iter;
      // A plain packet must not be declined.
      ASSERT_TRUE(mutated || b.size() < 54 || s.dport == 4789)
          << "plain packet " << iter << " declined";
    }
    plain += !mutated;
    rte_pktmbuf_free(m);
  }
  EXPECT_GT(taken, 5000);
  EXPECT_GT(plain, 5000);
}

}  // namespace
}  // namespace grod::gro::testing
