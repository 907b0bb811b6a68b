// Golden tests: TCP over IPv4/IPv6 in MERGE and LIST mode, from hand-built
// packets, checking bytes, metadata and counters.
#include <gtest/gtest.h>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint8_t kAck = 0x10, kPsh = 0x08, kSyn = 0x02, kFin = 0x01;

// The merge of segments [first, first + n) of `len` bytes starting at seq 0.
Bytes Merged(PacketSpec s, uint32_t seq, size_t total) {
  s.seq = seq;
  s.payload.clear();
  for (uint32_t at = seq; at < seq + total;) {
    const size_t n = std::min<size_t>(1000, seq + total - at);
    Bytes p = Payload(n, at);
    s.payload.insert(s.payload.end(), p.begin(), p.end());
    at += n;
  }
  return AsMergedHeaders(Build(s), false);
}

class TcpGolden : public EngineTest,
                  public ::testing::WithParamInterface<bool> {};

TEST_P(TcpGolden, MergesInOrderSegmentsWithTsoMetadata) {
  const bool v6 = GetParam();
  Make();
  for (uint32_t i = 0; i < 4; ++i) Feed(Build(TcpSegment(i * 1000, 1000, v6)));
  EXPECT_EQ(ctx_->held_flows(), 1u);
  EXPECT_EQ(ctx_->held_packets(), 4u);

  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, Merged(TcpSegment(0, 0, v6), 0, 4000));
  EXPECT_EQ(out[0].nb_segs, 4);
  EXPECT_EQ(out[0].tso_segsz, 1000);
  EXPECT_TRUE(out[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_TRUE(out[0].ol_flags & (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4));
  EXPECT_EQ(out[0].l2_len, 14);
  EXPECT_EQ(out[0].l3_len, v6 ? 40 : 20);
  EXPECT_EQ(out[0].l4_len, 20);
  const Counters& c = ctx_->counters();
  EXPECT_EQ(c.packets_in, 4u);
  EXPECT_EQ(c.packets_out, 1u);
  EXPECT_EQ(c.merged_out, 1u);
  EXPECT_EQ(c.segments_merged, 4u);
  EXPECT_EQ(c.segments_hist[2], 1u);  // <= 4 segments
  EXPECT_EQ(c.flushes[kFlushExplicit], 1u);
}

// The ingress port is part of the flow: the same 5-tuple arriving on two
// ports goes to two peers and is never merged (full path and burst API).
TEST_P(TcpGolden, SameFiveTupleOnTwoPortsIsTwoFlows) {
  const bool v6 = GetParam();
  Make();
  for (bool burst : {false, true}) {
    std::vector<rte_mbuf*> ms;
    for (uint32_t i = 0; i < 6; ++i) {
      ms.push_back(ToMbuf(pool_, Build(TcpSegment(i * 1000, 1000, v6))));
      ms.back()->port = uint16_t(i % 2);  // 0,2,4 on port 0; 1,3,5 on 1
    }
    if (burst) {
      ctx_->ProcessBurst(ms.data(), ms.size(), Mode::kMerge, 0, &col_.out);
    } else {
      for (rte_mbuf* m : ms) {
        ParsedPacket p;
        Parse(m, {}, &p);
        EXPECT_EQ(p.key.port, m->port);
        ctx_->Process(m, p, Mode::kMerge, 0, &col_.out);
      }
    }
    EXPECT_EQ(ctx_->held_flows(), 2u);
    ctx_->FlushAll(&col_.out);
    std::vector<rte_mbuf*>& out = col_.Take();
    // Each port's packets are not adjacent (every other segment): nothing
    // merges; all six come out, in order per port.
    ASSERT_EQ(out.size(), 6u);
    for (rte_mbuf* m : out) {
      EXPECT_EQ(m->nb_segs, 1);
      rte_pktmbuf_free(m);
    }
    col_.pkts.clear();
  }
  // Adjacent segments on both ports: two merged packets, one per port.
  std::vector<rte_mbuf*> ms;
  for (uint16_t port : {0, 1}) {
    for (uint32_t i = 0; i < 3; ++i) {
      ms.push_back(ToMbuf(pool_, Build(TcpSegment(i * 1000, 1000, v6))));
      ms.back()->port = port;
    }
  }
  ctx_->ProcessBurst(ms.data(), ms.size(), Mode::kMerge, 0, &col_.out);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  for (const OutPkt& o : out) {
    EXPECT_EQ(o.nb_segs, 3);
    EXPECT_EQ(o.bytes, Merged(TcpSegment(0, 0, v6), 0, 3000));
  }
}

TEST_P(TcpGolden, ListKeepsPacketsByteIdentical) {
  const bool v6 = GetParam();
  Make();
  std::vector<Bytes> in;
  for (uint32_t i = 0; i < 5; ++i) {
    in.push_back(Build(TcpSegment(i * 1000, 1000, v6)));
    Feed(in.back(), Mode::kList);
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].list);
  EXPECT_EQ(out[0].members, in);
  EXPECT_EQ(ctx_->counters().list_out, 1u);
  EXPECT_EQ(ctx_->counters().segments_listed, 5u);
}

// A merged packet is cut back into segments in sequence order (TSO or
// Segment()): as Linux, a segment that does not continue the held run
// flushes it first (`reorder`), so nothing leaves ahead of a segment that
// arrived before it.  Here each leaves alone, in arrival order: 2, 1, 4,
// 3 and 5 each flush the run before them (see also arrival_order_test).
TEST_P(TcpGolden, ReorderedSegmentsLeaveInArrivalOrder) {
  const bool v6 = GetParam();
  Make();
  std::vector<Bytes> in;
  for (uint32_t i : {0, 2, 1, 4, 3, 5}) {
    in.push_back(Build(TcpSegment(i * 1000, 1000, v6)));
    Feed(in.back());
  }
  auto out = Out();
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i].bytes, in[i]) << i;
  EXPECT_EQ(ctx_->counters().flushes[kFlushReorder], 5u);
}

// In order after a gap: the run after the gap grows.
TEST_P(TcpGolden, SegmentsAfterAGapMergeInTheirOwnRun) {
  const bool v6 = GetParam();
  Make();
  for (uint32_t i : {0, 1, 3, 4, 5})
    Feed(Build(TcpSegment(i * 1000, 1000, v6)));
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, Merged(TcpSegment(0, 0, v6), 0, 2000));
  EXPECT_TRUE(out[1].bytes == Merged(TcpSegment(3000, 0, v6), 3000, 3000));
}

// LIST members leave unlinked one by one: in arrival order, never sorted
// by sequence number (that would reorder the wire).  As in MERGE (and
// Linux fraglist GRO), a segment extends only the flow's one run, at its
// end; any other makes the run leave at once (`reorder`) and starts the
// next: [1] [0] [3 4] have left when 2 arrives, [2] leaves at the flush.
TEST_P(TcpGolden, ReorderedListLeavesInArrivalOrder) {
  const bool v6 = GetParam();
  Make();
  std::vector<Bytes> in;
  for (uint32_t i = 0; i < 5; ++i)
    in.push_back(Build(TcpSegment(i * 1000, 1000, v6)));
  for (int i : {1, 0, 3, 4, 2}) Feed(in[i], Mode::kList);
  EXPECT_EQ(ctx_->counters().flushes[kFlushReorder], 3u);
  EXPECT_EQ(ctx_->held_packets(), 1u);
  auto out = Out(/*flush=*/false);
  ASSERT_EQ(out.size(), 3u);
  for (const OutPkt& o : Out()) out.push_back(o);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].members, std::vector<Bytes>{in[1]});
  EXPECT_EQ(out[1].members, std::vector<Bytes>{in[0]});
  EXPECT_EQ(out[2].members, (std::vector<Bytes>{in[3], in[4]}));
  EXPECT_EQ(out[3].members, std::vector<Bytes>{in[2]});
}

TEST_P(TcpGolden, PshMergesThenFlushesAtOnce) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(TcpSegment(0, 1000, v6)));
  PacketSpec last = TcpSegment(1000, 1000, v6);
  last.tcp_flags = kAck | kPsh;
  Feed(Build(last));
  EXPECT_EQ(ctx_->held_flows(), 0u);
  auto out = Out(/*flush=*/false);
  ASSERT_EQ(out.size(), 1u);
  PacketSpec want = TcpSegment(0, 0, v6);
  want.tcp_flags = kAck | kPsh;
  EXPECT_EQ(out[0].bytes, Merged(want, 0, 2000));
  EXPECT_EQ(ctx_->counters().flushes[kFlushFlags], 1u);
}

TEST_P(TcpGolden, FinAfterGapFlushesHeldSegmentsFirst) {
  // DPDK bug class: held segments overtaken by a later PSH/FIN packet.
  const bool v6 = GetParam();
  Make();
  Feed(Build(TcpSegment(0, 1000, v6)));
  PacketSpec fin = TcpSegment(3000, 1000, v6);
  fin.tcp_flags = kAck | kFin;
  Feed(Build(fin));
  auto out = Out(false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, Build(TcpSegment(0, 1000, v6)));
  EXPECT_EQ(out[1].bytes, Build(fin));
}

TEST_P(TcpGolden, SynFlushesTheFlowThenPasses) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(TcpSegment(0, 1000, v6)));
  Feed(Build(TcpSegment(1000, 1000, v6)));
  PacketSpec syn = TcpSegment(2000, 0, v6);
  syn.tcp_flags = kSyn;
  Feed(Build(syn));
  auto out = Out(false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, Merged(TcpSegment(0, 0, v6), 0, 2000));
  EXPECT_EQ(out[1].bytes, Build(syn));
  EXPECT_EQ(ctx_->counters().passthrough[kPassTcpFlags], 1u);
  EXPECT_EQ(ctx_->counters().flushes[kFlushPassthrough], 1u);
}

TEST_P(TcpGolden, ShortSegmentEndsTheMerge) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(TcpSegment(0, 1000, v6)));
  Feed(Build(TcpSegment(1000, 400, v6)));
  EXPECT_EQ(ctx_->held_flows(), 0u);  // nothing can follow a short segment
  Feed(Build(TcpSegment(1400, 1000, v6)));
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  PacketSpec want = TcpSegment(0, 0, v6);
  want.payload = Payload(1000, 0);
  Bytes tail = Payload(400, 1000);
  want.payload.insert(want.payload.end(), tail.begin(), tail.end());
  EXPECT_EQ(out[0].bytes, AsMergedHeaders(Build(want), false));
  EXPECT_EQ(out[1].bytes, Build(TcpSegment(1400, 1000, v6)));
}

TEST_P(TcpGolden, DuplicateIsNeitherLostNorMerged) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(TcpSegment(0, 1000, v6)));
  Feed(Build(TcpSegment(1000, 1000, v6)));
  Feed(Build(TcpSegment(1000, 1000, v6)));  // retransmission
  Feed(Build(TcpSegment(2000, 1000, v6)));
  auto out = Out();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].bytes, Merged(TcpSegment(0, 0, v6), 0, 2000));
  EXPECT_EQ(out[1].bytes, Build(TcpSegment(1000, 1000, v6)));
  EXPECT_EQ(out[2].bytes, Build(TcpSegment(2000, 1000, v6)));
  EXPECT_EQ(ctx_->counters().passthrough[kPassDuplicate], 1u);
}

TEST_P(TcpGolden, DifferentAckOrOptionsDoNotMerge) {
  const bool v6 = GetParam();
  Make();
  Feed(Build(TcpSegment(0, 1000, v6)));
  PacketSpec b = TcpSegment(1000, 1000, v6);
  b.ack = 99;
  Feed(Build(b));
  PacketSpec c = TcpSegment(2000, 1000, v6);
  c.ack = 99;
  c.tcp_options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
  Feed(Build(c));
  auto out = Out();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(ctx_->counters().flushes[kFlushMismatch], 2u);
  EXPECT_EQ(out[2].bytes, Build(c));
}

TEST_P(TcpGolden, IdenticalOptionsMerge) {
  const bool v6 = GetParam();
  Make();
  const Bytes ts = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec s = TcpSegment(i * 1000, 1000, v6);
    s.tcp_options = ts;
    Feed(Build(s));
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  PacketSpec want = TcpSegment(0, 0, v6);
  want.tcp_options = ts;
  EXPECT_EQ(out[0].bytes, Merged(want, 0, 3000));
  EXPECT_EQ(out[0].l4_len, 32);
}

TEST_P(TcpGolden, MaxSegmentsAndBytes) {
  const bool v6 = GetParam();
  ContextConfig cfg;
  cfg.max_segments = 4;
  Make(cfg);
  for (uint32_t i = 0; i < 10; ++i) Feed(Build(TcpSegment(i * 1000, 1000, v6)));
  auto out = Out();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].nb_segs, 4);
  EXPECT_EQ(out[1].nb_segs, 4);
  EXPECT_EQ(out[2].nb_segs, 2);
  ctx_.reset();
  cfg = {};
  cfg.max_merged_bytes = 2500;  // IP length field limit
  Make(cfg);
  for (uint32_t i = 0; i < 4; ++i) Feed(Build(TcpSegment(i * 1000, 1000, v6)));
  out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].nb_segs, 2);
}

TEST_P(TcpGolden, SixtyFourKLimit) {
  const bool v6 = GetParam();
  Make();
  // 1448-byte segments: 45 fit under 65535 with headers, the 46th doesn't.
  for (uint32_t i = 0; i < 50; ++i) {
    PacketSpec s = TcpSegment(i * 1448, 0, v6);
    s.payload = Payload(1448, i);
    Feed(Build(s));
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  const uint32_t ip_len = v6 ? 20 + 1448 * 45 : 40 + 1448 * 45;
  EXPECT_LE(ip_len, 65535u);
  EXPECT_EQ(out[0].nb_segs, 45);
  EXPECT_EQ(out[0].bytes.size(), 14 + (v6 ? 40 : 0) + ip_len);
}

INSTANTIATE_TEST_SUITE_P(V4V6, TcpGolden, ::testing::Bool(),
                         [](const auto& i) { return i.param ? "v6" : "v4"; });

class Tcp4Golden : public EngineTest {};

TEST_F(Tcp4Golden, IpIdMustIncrementWhenDfIsClear) {
  Make();
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec s = TcpSegment(i * 1000, 1000);
    s.df = false;
    s.ip_id = uint16_t(0xfffe + i);  // wraps
    Feed(Build(s));
  }
  PacketSpec s = TcpSegment(3000, 1000);
  s.df = false;
  s.ip_id = 7;  // jump: not a neighbor
  Feed(Build(s));
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].nb_segs, 3);
  PacketSpec want = TcpSegment(0, 0);
  want.df = false;
  want.ip_id = 0xfffe;
  EXPECT_EQ(out[0].bytes, Merged(want, 0, 3000));
}

// The merged header's checksum is updated for the new total length, not
// recomputed: a head that arrived with a bad IPv4 header checksum (merged
// with verification off) leaves with one that is still bad, by the same
// amount -- GRO never launders a corrupted header.
TEST_F(Tcp4Golden, BadHeaderChecksumOfTheHeadStaysBad) {
  Make();
  for (uint32_t i = 0; i < 3; ++i) {
    Bytes b = Build(TcpSegment(i * 1000, 1000));
    if (i == 0) b[14 + 11] ^= 0x01;  // the head's IPv4 header checksum
    Feed(b);
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  Bytes want = Merged(TcpSegment(0, 0), 0, 3000);
  EXPECT_NE(out[0].bytes, want);
  want[14 + 11] ^= 0x01;
  EXPECT_EQ(out[0].bytes, want);
}

TEST_F(Tcp4Golden, IpIdIgnoredWhenDfIsSet) {
  Make();
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec s = TcpSegment(i * 1000, 1000);
    s.ip_id = uint16_t(i * 77);
    Feed(Build(s));
  }
  EXPECT_EQ(Out().size(), 1u);
}

TEST_F(Tcp4Golden, DfTtlTosMismatchFlush) {
  Make();
  PacketSpec a = TcpSegment(0, 1000), b = TcpSegment(1000, 1000),
             c = TcpSegment(2000, 1000);
  b.ttl = 63;
  c.ttl = 63;
  c.tos = 4;
  Feed(Build(a));
  Feed(Build(b));
  Feed(Build(c));
  EXPECT_EQ(Out().size(), 3u);
}

TEST_F(Tcp4Golden, IpOptionsMergeOnlyWhenIdentical) {
  Make();
  for (uint32_t i = 0; i < 3; ++i) {
    PacketSpec s = TcpSegment(i * 1000, 1000);
    s.ip_options = {0x94, 4, 0, 0};  // router alert
    if (i == 2) s.ip_options = {1, 1, 1, 0};
    Feed(Build(s));
  }
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].l3_len, 24);
  EXPECT_EQ(out[0].nb_segs, 2);
}

TEST_F(Tcp4Golden, VlanAndQinQ) {
  Make();
  for (const auto& vlans :
       {std::vector<uint16_t>{100}, std::vector<uint16_t>{200, 300}}) {
    for (uint32_t i = 0; i < 3; ++i) {
      PacketSpec s = TcpSegment(i * 1000, 1000);
      s.vlans = vlans;
      Feed(Build(s));
    }
  }
  PacketSpec other = TcpSegment(3000, 1000);
  other.vlans = {101};  // another VLAN: another flow
  Feed(Build(other));
  auto out = Out();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].l2_len, 18);
  EXPECT_EQ(out[1].l2_len, 22);
  PacketSpec want = TcpSegment(0, 0);
  want.vlans = {200, 300};
  EXPECT_EQ(out[1].bytes, Merged(want, 0, 3000));
}

TEST_F(Tcp4Golden, TableFullFlushesOldestFlow) {
  ContextConfig cfg;
  cfg.max_flows = 2;
  Make(cfg);
  for (uint16_t port = 1; port <= 3; ++port) {
    PacketSpec s = TcpSegment(0, 1000);
    s.sport = port;
    Feed(Build(s));
  }
  EXPECT_EQ(ctx_->held_flows(), 2u);
  auto out = Out(false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes[34 + 1], 1);  // sport 1: the oldest
  EXPECT_EQ(ctx_->counters().flushes[kFlushTableFull], 1u);
}

TEST_F(Tcp4Golden, HeldPacketLimitFlushesOldestFlow) {
  ContextConfig cfg;
  cfg.max_held_packets = 3;
  Make(cfg);
  for (uint32_t i = 0; i < 3; ++i) Feed(Build(TcpSegment(i * 1000, 1000)));
  PacketSpec s = TcpSegment(0, 1000);
  s.sport = 9;
  Feed(Build(s));
  EXPECT_EQ(ctx_->held_packets(), 1u);
  EXPECT_EQ(Out(false).size(), 1u);
}

TEST_F(Tcp4Golden, TimeoutFlushOnlyOldFlows) {
  Make();
  Feed(Build(TcpSegment(0, 1000)), Mode::kMerge, 100);
  PacketSpec s = TcpSegment(0, 1000);
  s.sport = 5;
  Feed(Build(s), Mode::kMerge, 200);
  ctx_->FlushTimedOut(250, 100, &col_.out);
  EXPECT_EQ(ctx_->held_flows(), 1u);
  EXPECT_EQ(Out(false).size(), 1u);
  ctx_->FlushTimedOut(300, 100, &col_.out);
  EXPECT_EQ(ctx_->held_flows(), 0u);
  EXPECT_EQ(ctx_->counters().flushes[kFlushTimeout], 2u);
}

TEST_F(Tcp4Golden, FlushFlowOfAndModeChange) {
  Make();
  Feed(Build(TcpSegment(0, 1000)));
  PacketSpec s = TcpSegment(0, 1000);
  s.sport = 5;
  Feed(Build(s));
  rte_mbuf* m = ToMbuf(pool_, Build(s));
  ParsedPacket p;
  Parse(m, {}, &p);
  ctx_->FlushFlowOf(p, &col_.out);
  rte_pktmbuf_free(m);
  EXPECT_EQ(ctx_->held_flows(), 1u);
  Feed(Build(TcpSegment(1000, 1000)), Mode::kList);  // same flow, other mode
  EXPECT_EQ(ctx_->counters().flushes[kFlushMismatch], 1u);
  Feed(Build(TcpSegment(2000, 1000)), Mode::kBypass);
  EXPECT_EQ(ctx_->counters().bypass, 1u);
  auto out = Out();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].bytes, Build(s));  // flushed explicitly, first
  EXPECT_EQ(out[3].bytes, Build(TcpSegment(2000, 1000)));
}

TEST_F(Tcp4Golden, DestructorFreesHeldPackets) {
  Make();
  Feed(Build(TcpSegment(0, 1000)));
  Feed(Build(TcpSegment(1000, 1000)));
  Feed(Build(TcpSegment(5000, 1000)), Mode::kList);
  Feed(Build(TcpSegment(6000, 1000)), Mode::kList);
  ctx_.reset();  // MbufTest checks nothing leaked
}

TEST_F(Tcp4Golden, BurstModeFlushesEverything) {
  ASSERT_TRUE(InitDpdk());
  std::vector<rte_mbuf*> pkts;
  for (uint32_t i = 0; i < 8; ++i) {
    PacketSpec s = TcpSegment((i / 2) * 1000, 1000);
    s.sport = 10 + i % 2;  // two interleaved flows
    pkts.push_back(ToMbuf(pool_, Build(s)));
  }
  const uint16_t n =
      ReassembleBurst(pkts.data(), pkts.size(), Mode::kMerge, {});
  ASSERT_EQ(n, 2);
  EXPECT_EQ(pkts[0]->nb_segs, 4);
  EXPECT_EQ(pkts[1]->nb_segs, 4);
  for (uint16_t i = 0; i < n; ++i) FreePacket(pkts[i]);
}

// Burst mode when flows rarely recur (most bursts' flows hold one
// packet): the cached context is reset after each burst instead of keeping
// idle entries.  Across hundreds of such bursts -- with a recurring flow
// mixed in, and the mode switching back when flows merge again -- every
// packet comes out exactly once, merged where its flow had neighbours.
TEST_F(Tcp4Golden, BurstModeWithSingletonFlowsResetsAndLosesNothing) {
  ASSERT_TRUE(InitDpdk());
  ContextConfig cfg;
  cfg.max_flows = 64;
  uint32_t seq_recurring = 0;
  for (uint32_t burst = 0; burst < 600; ++burst) {
    const bool merging = burst >= 400;  // flows merge again: mode flips
    std::vector<rte_mbuf*> pkts;
    std::vector<uint32_t> sports;
    for (uint32_t i = 0; i < 16; ++i) {
      const uint32_t flow = merging ? i / 4 : burst * 16 + i;
      PacketSpec s = TcpSegment(merging ? (i % 4) * 100 : 0, 100);
      s.sport = uint16_t(1024 + flow % 60000);
      s.dport = uint16_t(80 + flow / 60000);
      sports.push_back(s.sport);
      pkts.push_back(ToMbuf(pool_, Build(s)));
    }
    PacketSpec r = TcpSegment(seq_recurring, 100);  // one flow in every burst
    r.sport = 7;
    seq_recurring += 100;
    pkts.push_back(ToMbuf(pool_, Build(r)));
    const uint16_t n =
        ReassembleBurst(pkts.data(), pkts.size(), Mode::kMerge, cfg);
    ASSERT_EQ(n, merging ? 5 : 17) << "burst " << burst;
    uint32_t segs = 0;
    for (uint16_t i = 0; i < n; ++i) {
      segs += pkts[i]->nb_segs;
      EXPECT_EQ(pkts[i]->pkt_len, 54u + 100 * pkts[i]->nb_segs);
      FreePacket(pkts[i]);
    }
    ASSERT_EQ(segs, 17u) << "burst " << burst;
  }
  // (MbufTest checks that every mbuf went back to the pool.)
}

}  // namespace
}  // namespace grod::gro::testing
