// Differential tests for the fast path (streams: testing/fast_path_streams.h).
// The same input goes through
//   A: Parse() + Process() per packet (the full path, the reference),
//   B: ProcessBurst(pkts, n, mode, ...) (templates, hash peek, last flow),
//   C: Parse() + Process() + ContinueFlow() (the GroStage way),
// and must give identical outputs (bytes, metadata, list members, order),
// counters and held totals.  Streams are mostly mergeable TCP/UDP with
// every header field the fast path masks, checks or compares mutated now
// and then (flags, TTL, TOS, DF, IDs, ACK, window, checksums, options,
// lengths, padding, truncation, MACs, VLANs, ingress port, seq gaps,
// duplicates, reordering, multi-segment mbufs, packets at the end of the
// buffer), under random limits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/fast_path_streams.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

TEST_P(FastPathTest, SameAsFullPath) {
  // GRO_SEED_BASE=N shifts the seeds, for longer local soak runs.
  const char* base = getenv("GRO_SEED_BASE");
  StreamGen g(GetParam() + (base ? uint32_t(atoi(base)) : 0));
  ContextConfig cfg;
  cfg.max_flows = std::vector<uint32_t>{2, 8, 1024}[g.R(0, 2)];
  cfg.max_held_packets = g.P(0.3) ? uint32_t(g.R(1, 40)) : 16384;
  cfg.max_segments = g.P(0.3) ? g.R(1, 8) : 64;
  if (g.P(0.3)) cfg.max_merged_bytes = g.R(100, 65535);
  if (g.P(0.15)) cfg.max_merged_bytes = g.R(65536, kMaxBigMergedBytes);
  if (g.P(0.1)) cfg.gro_types = g.R(0, kAll);
  cfg.verify_checksums = g.P(0.3);
  auto a = Context::Create(cfg), b = Context::Create(cfg),
       c = Context::Create(cfg);
  ASSERT_TRUE(a && b && c);
  Collector ca, cb, cc;
  const ParseConfig pc{cfg.vxlan_port};

  // Sometimes most flows lately held one packet first (templates then wait
  // for a flow's second packet, which may be a PSH segment).
  const size_t warm = g.P(0.25) ? 300 : 0;
  if (warm != 0) {
    for (size_t i = 0; i < warm; ++i) {
      PacketSpec s = TcpSegment(1, 10);
      s.sport = uint16_t(30000 + i);
      rte_mbuf* m[3] = {ToMbuf(pool_, Build(s)), ToMbuf(pool_, Build(s)),
                        ToMbuf(pool_, Build(s))};
      ParsedPacket p;
      Parse(m[0], pc, &p);
      a->Process(m[0], p, Mode::kMerge, 0, &ca.out);
      b->ProcessBurst(&m[1], 1, Mode::kMerge, 0, &cb.out);
      Parse(m[2], pc, &p);
      c->Process(m[2], p, Mode::kMerge, 0, &cc.out);
    }
    a->FlushAll(&ca.out);
    b->FlushAll(&cb.out);
    c->FlushAll(&cc.out);
  }
  std::vector<StreamGen::Flow> flows;
  const int nflows = g.P(0.3) ? 1 : g.R(2, 12);
  for (int i = 0; i < nflows; ++i) flows.push_back(g.NewFlow(i));
  std::vector<StreamPacket> input;
  const int npkts = g.R(50, 600);
  int cur = 0;
  for (int i = 0; i < npkts; ++i) {
    if (g.P(0.3)) cur = g.R(0, nflows - 1);  // runs of one flow, interleaved
    input.push_back(g.Next(&flows[cur]));
    if (g.P(0.03) && input.size() >= 2) {
      std::swap(input[input.size() - 1], input[input.size() - 2]);
    }
  }

  uint64_t now = 0;
  for (size_t i = 0; i < input.size();) {
    // A burst: one mode (the burst API takes one).
    const Mode mode = input[i].mode;
    size_t end = i + 1;
    const size_t max = size_t(g.R(1, 70));
    while (end < input.size() && end - i < max && input[end].mode == mode) {
      ++end;
    }
    std::vector<rte_mbuf*> ma, mb, mc;
    for (size_t k = i; k < end; ++k) {
      ma.push_back(Make(input[k]));
      mb.push_back(Make(input[k]));
      mc.push_back(Make(input[k]));
      ASSERT_TRUE(ma.back() && mb.back() && mc.back());
    }
    for (rte_mbuf* m : ma) {
      ParsedPacket p;
      Parse(m, pc, &p);
      a->Process(m, p, mode, now, &ca.out);
    }
    b->ProcessBurst(mb.data(), uint16_t(mb.size()), mode, now, &cb.out);
    for (size_t k = 0; k < mc.size();) {
      ParsedPacket p;
      Parse(mc[k], pc, &p);
      c->Process(mc[k], p, mode, now, &cc.out);
      ++k;
      k += c->ContinueFlow(mc.data() + k, uint16_t(mc.size() - k), &cc.out);
    }
    i = end;
    now += g.R(0, 50);
    if (g.P(0.2)) {
      const uint64_t age = g.R(0, 200);
      a->FlushTimedOut(now, age, &ca.out);
      b->FlushTimedOut(now, age, &cb.out);
      c->FlushTimedOut(now, age, &cc.out);
    }
    ASSERT_EQ(a->held_packets(), b->held_packets()) << "burst ending " << i;
    ASSERT_EQ(a->held_packets(), c->held_packets()) << "burst ending " << i;
    ASSERT_EQ(a->held_flows(), b->held_flows());
    ASSERT_EQ(a->held_flows(), c->held_flows());
  }
  a->FlushAll(&ca.out);
  b->FlushAll(&cb.out);
  c->FlushAll(&cc.out);
  const std::vector<std::string> oa = Drain(&ca), ob = Drain(&cb),
                                 oc = Drain(&cc);
  ASSERT_EQ(oa.size(), ob.size());
  ASSERT_EQ(oa.size(), oc.size());
  for (size_t k = 0; k < oa.size(); ++k) {
    ASSERT_EQ(oa[k], ob[k]) << "output " << k << " (burst API)";
    ASSERT_EQ(oa[k], oc[k]) << "output " << k << " (ContinueFlow)";
  }
  EXPECT_EQ(memcmp(&a->counters(), &b->counters(), sizeof(Counters)), 0);
  EXPECT_EQ(memcmp(&a->counters(), &c->counters(), sizeof(Counters)), 0);
  EXPECT_EQ(a->counters().packets_in, warm + input.size());
}

INSTANTIATE_TEST_SUITE_P(Seeds, FastPathTest, ::testing::Range(1u, 301u));

}  // namespace
}  // namespace grod::gro::testing
