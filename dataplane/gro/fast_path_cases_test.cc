// The fast path on hand-made cases the seeded differential tests
// (fast_path_test, burst_mode_test) would not notice missing: it does take
// packets, never holds a PSH segment on revival, and checks checksums
// itself when the NIC gave no verdict.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/fast_path_streams.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

// The fast path does take packets (fast_path_test would also pass if it
// never did): a flow with a template is continued by ContinueFlow, on its
// own port only.
TEST_F(FastPathTest, ContinueFlowTakesInOrderSegments) {
  auto ctx = Context::Create({});
  ASSERT_TRUE(ctx);
  Collector col;
  PacketSpec s;
  s.payload = Payload(100, 1);
  std::vector<rte_mbuf*> ms;
  for (int i = 0; i < 10; ++i) {
    ms.push_back(ToMbuf(pool_, Build(s)));
    ms.back()->port = 3;
    s.seq += 100;
  }
  ParsedPacket p;
  Parse(ms[0], {}, &p);
  ctx->Process(ms[0], p, Mode::kMerge, 0, &col.out);
  EXPECT_EQ(ctx->ContinueFlow(ms.data() + 1, 9, &col.out), 9);
  EXPECT_EQ(ctx->held_packets(), 10u);
  EXPECT_EQ(ctx->counters().packets_in, 10u);
  // Another port: a different flow, not continued.
  rte_mbuf* other = ToMbuf(pool_, Build(s));
  other->port = 4;
  EXPECT_EQ(ctx->ContinueFlow(&other, 1, &col.out), 0);
  Parse(other, {}, &p);
  ctx->Process(other, p, Mode::kMerge, 0, &col.out);
  EXPECT_EQ(ctx->held_flows(), 2u);
  ctx->FlushAll(&col.out);
  std::vector<rte_mbuf*>& out = col.Take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->nb_segs, 10);
  EXPECT_EQ(out[0]->pkt_len, 54u + 1000);
  for (rte_mbuf* m : out) rte_pktmbuf_free(m);
  col.pkts.clear();
}

// A flow whose template came from a PSH segment (its second packet, taken
// lazily when most flows hold one packet) is emitted with it and left idle;
// a later PSH segment of the flow, found by the hash lookup, must be
// emitted at once as the full path does, not held by the fast path's
// revival of the idle entry.
TEST_F(FastPathTest, RevivalNeverHoldsAPshSegment) {
  auto a = Context::Create({}), b = Context::Create({});
  ASSERT_TRUE(a && b);
  Collector ca, cb;
  auto both = [&](std::vector<Bytes> frames) {
    std::vector<rte_mbuf*> ma, mb;
    for (const Bytes& f : frames) {
      ma.push_back(ToMbuf(pool_, f));
      mb.push_back(ToMbuf(pool_, f));
    }
    for (rte_mbuf* m : ma) {
      ParsedPacket p;
      Parse(m, {}, &p);
      a->Process(m, p, Mode::kMerge, 0, &ca.out);
    }
    b->ProcessBurst(mb.data(), uint16_t(mb.size()), Mode::kMerge, 0, &cb.out);
  };
  // Most flows lately held one packet: templates wait for a second one.
  for (int i = 0; i < 300; ++i) {
    PacketSpec s = TcpSegment(1, 100);
    s.sport = uint16_t(3000 + i);
    both({Build(s)});
  }
  a->FlushAll(&ca.out);
  b->FlushAll(&cb.out);
  ASSERT_TRUE(a->mostly_single_packet_flows());
  ASSERT_TRUE(b->mostly_single_packet_flows());
  PacketSpec x = TcpSegment(1000, 100), y = TcpSegment(50000, 100);
  y.sport = 7;
  both({Build(x)});
  x.seq += 100;
  x.tcp_flags = 0x18;  // ACK|PSH: the template is taken from it
  both({Build(x)});
  x.seq += 100;
  PacketSpec y1 = y;
  y1.seq += 100;
  // Y's two segments send the burst to the hash lookup, which finds X's
  // idle entry for the PSH segment.
  both({Build(y), Build(y1), Build(x)});
  EXPECT_EQ(a->held_packets(), 2u);
  EXPECT_EQ(b->held_packets(), a->held_packets());
  a->FlushAll(&ca.out);
  b->FlushAll(&cb.out);
  const std::vector<std::string> oa = Drain(&ca), ob = Drain(&cb);
  EXPECT_TRUE(oa == ob) << "outputs differ";
  EXPECT_EQ(memcmp(&a->counters(), &b->counters(), sizeof(Counters)), 0);
}

// With checksum verification on, the fast path still takes packets whose
// NIC verdict is GOOD, and leaves every other packet to the full path
// (which checks in software): ContinueFlow stops at the first one.
// With verification on, the fast path takes packets the NIC found GOOD and
// checks the others in software itself (as the full path would); one with
// a bad checksum -- or a BAD verdict -- goes to the full path, which passes
// it.
TEST_F(FastPathTest, VerifiedContextChecksPacketsWithoutAVerdictItself) {
  ContextConfig cfg;
  cfg.verify_checksums = true;
  auto ctx = Context::Create(cfg);
  ASSERT_TRUE(ctx);
  Collector col;
  PacketSpec s;
  s.payload = Payload(100, 1);
  const uint64_t good =
      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  const uint64_t bad = RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  // 2 and 3 have no verdict; 3's payload was corrupted after its checksum.
  const uint64_t verdict[8] = {good, good, 0, 0, good, bad, good, good};
  std::vector<rte_mbuf*> ms;
  for (int i = 0; i < 8; ++i) {
    Bytes b = Build(s);
    if (i == 3) b.back() ^= 0x01;
    ms.push_back(ToMbuf(pool_, b));
    ms.back()->ol_flags |= verdict[i];
    s.seq += 100;
  }
  ParsedPacket p;
  Parse(ms[0], {}, &p);
  ctx->Process(ms[0], p, Mode::kMerge, 0, &col.out);
  // 1 (GOOD) and 2 (checked in software) taken; 3 fails the check.
  EXPECT_EQ(ctx->ContinueFlow(ms.data() + 1, 7, &col.out), 2);
  for (int i = 3; i < 8; ++i) {  // the full path: software check / verdict
    Parse(ms[i], {}, &p);
    ctx->Process(ms[i], p, Mode::kMerge, 0, &col.out);
  }
  ctx->FlushAll(&col.out);
  std::vector<rte_mbuf*>& out = col.Take();
  // 0..2 merged; 3 (bad checksum) passes alone after them; 4 is held and
  // flushed alone by 5 (BAD verdict), which passes; 6..7 merged.
  ASSERT_EQ(out.size(), 5u);
  const int segs[5] = {3, 1, 1, 1, 2};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i]->nb_segs, segs[i]) << i;
  EXPECT_EQ(ctx->counters().passthrough[kPassBadChecksum], 2u);
  for (rte_mbuf* m : out) rte_pktmbuf_free(m);
  col.pkts.clear();
}

}  // namespace
}  // namespace grod::gro::testing
