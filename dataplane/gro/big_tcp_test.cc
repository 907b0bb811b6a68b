// BIG TCP: merged plain-TCP packets beyond the 16-bit IP length field
// (ContextConfig::max_merged_bytes up to kMaxBigMergedBytes), on the full
// path and the fast path, and software GSO cutting them back.
#include <gtest/gtest.h>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr size_t kMss = 1400;
constexpr uint32_t kSegs = 60;  // 84000 payload bytes: past 65535

std::vector<Bytes> Stream(bool v6, bool udp = false) {
  std::vector<Bytes> v;
  for (uint32_t i = 0; i < kSegs; ++i) {
    PacketSpec s = TcpSegment(uint32_t(i * kMss), kMss, v6);
    if (udp) {
      s.proto = IPPROTO_UDP;
      s.payload = Payload(kMss, 0);
    }
    v.push_back(Build(s));
  }
  return v;
}

uint16_t Be16At(const Bytes& b, size_t off) {
  return uint16_t(b[off] << 8 | b[off + 1]);
}

// One's-complement sum of an IPv4 header: 0xffff when its checksum is right.
uint16_t HeaderSum(const Bytes& b, size_t off) {
  uint32_t s = 0;
  for (size_t i = 0; i < 20; i += 2) s += Be16At(b, off + i);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

ContextConfig BigConfig() {
  ContextConfig cfg;
  cfg.max_merged_bytes = kMaxBigMergedBytes;
  return cfg;
}

// (v6, burst API)
class BigTcp : public EngineTest,
               public ::testing::WithParamInterface<std::tuple<bool, bool>> {
 protected:
  void FeedAll(const std::vector<Bytes>& frames) {
    if (!std::get<1>(GetParam())) {
      for (const Bytes& f : frames) Feed(f);
      return;
    }
    std::vector<rte_mbuf*> ms;
    for (const Bytes& f : frames) ms.push_back(ToMbuf(pool_, f));
    ctx_->ProcessBurst(ms.data(), uint16_t(ms.size()), Mode::kMerge, 0,
                       &col_.out);
  }
};

TEST_P(BigTcp, MergesPast64KWithLengthFieldZero) {
  const bool v6 = std::get<0>(GetParam());
  Make(BigConfig());
  const std::vector<Bytes> in = Stream(v6);
  FeedAll(in);
  EXPECT_EQ(ctx_->held_packets(), kSegs);

  ctx_->FlushAll(&col_.out);
  std::vector<rte_mbuf*>& outs = col_.Take();
  ASSERT_EQ(outs.size(), 1u);
  rte_mbuf* m = outs[0];
  col_.pkts.clear();
  const size_t l3 = 14, hdr = l3 + (v6 ? 40 : 20) + 20;
  EXPECT_EQ(m->pkt_len, hdr + kSegs * kMss);
  EXPECT_EQ(m->nb_segs, kSegs);
  EXPECT_EQ(m->tso_segsz, kMss);
  EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);

  // Header: the first packet's, as any merge writes it, but the IP length
  // field is 0 (it cannot hold the length) -- and IPv4's header checksum
  // is right for the 0.
  Bytes want = AsMergedHeaders(in[0], false);
  Bytes got = ToBytes(m);
  ASSERT_EQ(got.size(), hdr + kSegs * kMss);
  const size_t len_off = v6 ? l3 + 4 : l3 + 2;
  EXPECT_EQ(Be16At(got, len_off), 0);
  if (!v6) {
    EXPECT_EQ(HeaderSum(got, l3), 0xffff);
    want[l3 + 10] = got[l3 + 10];
    want[l3 + 11] = got[l3 + 11];
  }
  want[len_off] = want[len_off + 1] = 0;
  EXPECT_TRUE(std::equal(want.begin(), want.begin() + hdr, got.begin()));
  for (uint32_t i = 0; i < kSegs; ++i) {
    ASSERT_TRUE(std::equal(in[i].begin() + hdr, in[i].end(),
                           got.begin() + hdr + i * kMss))
        << "segment " << i;
  }
  EXPECT_EQ(ctx_->counters().segments_merged, kSegs);

  // Software GSO cuts it back into the original segments (IPv4 ID and
  // checksums aside, which the builder fills the same way).
  rte_mbuf* segs[kSegs];
  ASSERT_EQ(Segment(m, pool_, IndirectPool(), segs, kSegs), int(kSegs));
  for (uint32_t i = 0; i < kSegs; ++i) {
    Bytes s = ToBytes(segs[i]);
    rte_pktmbuf_free(segs[i]);
    Bytes w = in[i];
    if (!v6) {  // the IDs of the segments count up from the head's
      w[l3 + 4] = s[l3 + 4];
      w[l3 + 5] = s[l3 + 5];
      w[l3 + 10] = s[l3 + 10];
      w[l3 + 11] = s[l3 + 11];
      EXPECT_EQ(HeaderSum(s, l3), 0xffff);
    }
    EXPECT_EQ(s, w) << "segment " << i;
  }
}

// A BIG limit binds like any other: as many segments as fit, then the next
// packet starts a new merge.
TEST_P(BigTcp, BigLimitBindsAtItsValue) {
  const bool v6 = std::get<0>(GetParam());
  ContextConfig cfg;
  cfg.max_merged_bytes = 70000;  // IPv4: IP+TCP headers; IPv6: TCP header
  Make(cfg);
  FeedAll(Stream(v6));
  const std::vector<OutPkt> out = Out();
  ASSERT_EQ(out.size(), 2u);
  const uint32_t fit = (70000 - (v6 ? 20 : 40)) / kMss;  // 49
  EXPECT_EQ(out[0].nb_segs, fit);
  EXPECT_EQ(out[1].nb_segs, kSegs - fit);
  EXPECT_EQ(ctx_->counters().flushes[kFlushSize], 1u);
}

TEST_P(BigTcp, DefaultLimitStaysWithin64K) {
  const bool v6 = std::get<0>(GetParam());
  Make();
  FeedAll(Stream(v6));
  const std::vector<OutPkt> out = Out();
  ASSERT_EQ(out.size(), 2u);
  const size_t l3 = 14, base = v6 ? 40 : 0;
  const size_t len_off = v6 ? l3 + 4 : l3 + 2;
  uint32_t segs = 0;
  for (const OutPkt& o : out) {
    // The IP length field says exactly what the packet holds.
    EXPECT_EQ(Be16At(o.bytes, len_off) + l3 + base, o.bytes.size());
    EXPECT_LE(o.bytes.size() - l3 - base, 65535u);
    segs += o.nb_segs;
  }
  EXPECT_EQ(segs, kSegs);
}

TEST_P(BigTcp, UdpStaysWithin64K) {
  const bool v6 = std::get<0>(GetParam());
  Make(BigConfig());
  FeedAll(Stream(v6, /*udp=*/true));
  const std::vector<OutPkt> out = Out();
  ASSERT_GE(out.size(), 2u);  // at most 46 datagrams of 1408 in 65535
  uint32_t segs = 0;
  for (const OutPkt& o : out) {
    EXPECT_LE(o.bytes.size() - 14 - (v6 ? 40 : 0), 65535u);
    segs += o.nb_segs;
  }
  EXPECT_EQ(segs, kSegs);
}

// A BIG packet on the wire is malformed (length 0): it passes untouched.
TEST_P(BigTcp, BigPacketArrivingPassesThroughUntouched) {
  const bool v6 = std::get<0>(GetParam());
  Make(BigConfig());
  FeedAll(Stream(v6));
  ctx_->FlushAll(&col_.out);
  std::vector<rte_mbuf*>& outs = col_.Take();
  ASSERT_EQ(outs.size(), 1u);
  const Bytes big = ToBytes(outs[0]);
  FreePacket(outs[0]);
  col_.pkts.clear();
  Feed(big);  // (chained: it does not fit one mbuf)
  const std::vector<OutPkt> out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, big);
  uint64_t passed = 0;
  for (uint64_t n : ctx_->counters().passthrough) passed += n;
  EXPECT_EQ(passed, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    V4V6, BigTcp, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) ? "Ipv6" : "Ipv4") +
             (std::get<1>(info.param) ? "Burst" : "PerPacket");
    });

}  // namespace
}  // namespace grod::gro::testing
