// Order per address pair across tables when the table counts plain flows
// per pair only on demand (FlowTable::CountOthers): hundreds of plain TCP
// flows are held and revived by the fast path, uncounted; then a fragment
// or a packet passing unparsed of one pair arrives and must first flush
// exactly that pair's held flows, oldest first.  The rounds go through
// every transition: nothing counted -> counted (recount from the live
// list), revivals while counted, counting stopped after many retirements
// with no reader, counted again.
//
// The expected order is the test's own: flow f (source port 1000 + f) is
// of pair f % kPairs (source address 10.1.0.pair+1) and gets its first
// segment of a round in order of f (odd rounds: reverse order), so a pair's
// flows were created (and revived) in that order.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr int kPairs = 16;
constexpr int kFlows = 768;           // 48 per pair
constexpr uint32_t kMaxFlows = 1024;  // the table stops counting after
                                      // 2 * (1024 + 1024) quiet retirements

struct Seen {
  int pair;  // -1: not a TCP segment of ours
  int flow;
  bool operator==(const Seen& o) const {
    return pair == o.pair && flow == o.flow;
  }
};

// Reads pair and flow of an output from its bytes (IPv4 source, TCP source
// port).
Seen Identify(const Bytes& b) {
  if (b.size() < 54 || b[12] != 0x08 || b[13] != 0 || b[23] != IPPROTO_TCP) {
    return {-1, -1};
  }
  return {b[29] - 1, (b[34] << 8 | b[35]) - 1000};
}

PacketSpec OfPair(int pair) {
  PacketSpec s;
  s.src_ip = {10, 1, 0, uint8_t(pair + 1)};
  s.dst_ip = {10, 2, 0, 1};
  return s;
}

class PairCount : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ContextConfig cfg;
    cfg.max_flows = kMaxFlows;
    Make(cfg);
  }
  // Two segments of every flow (all first ones, then all second ones),
  // through the fast path in bursts of 32: all flows held.
  void Round(int r) {
    for (int half = 0; half < 2; ++half) {
      std::vector<rte_mbuf*> ms;
      for (int i = 0; i < kFlows; ++i) {
        const int f = r % 2 ? kFlows - 1 - i : i;
        PacketSpec s = OfPair(f % kPairs);
        const PacketSpec seg = TcpSegment(1000 + 200 * r + 100 * half, 100);
        s.seq = seg.seq;
        s.payload = seg.payload;
        s.sport = uint16_t(1000 + f);
        ms.push_back(ToMbuf(pool_, Build(s)));
        ASSERT_NE(ms.back(), nullptr);
      }
      for (size_t i = 0; i < ms.size(); i += 32) {
        ctx_->ProcessBurst(ms.data() + i, 32, Mode::kMerge, 0, &col_.out);
      }
    }
    ASSERT_EQ(ctx_->held_flows(), uint32_t(kFlows));
  }
  // Every flow held by Round(), each once.
  void ExpectAllFlowsBut(const std::vector<OutPkt>& out, int pair) {
    std::vector<int> count(kFlows, 0);
    for (const OutPkt& o : out) {
      const Seen s = Identify(o.bytes);
      if (s.pair >= 0) ++count[s.flow];
    }
    for (int f = 0; f < kFlows; ++f) {
      EXPECT_EQ(count[f], f % kPairs == pair ? 0 : 1) << "flow " << f;
    }
  }
  // The outputs so far are exactly pair's flows held by Round(r), oldest
  // first, then `tail` more (returned: the unparsed packet itself).
  std::vector<OutPkt> ExpectPairFlushed(int r, int pair, size_t tail) {
    std::vector<Seen> want;
    for (int f = pair; f < kFlows; f += kPairs) want.push_back({pair, f});
    if (r % 2) std::reverse(want.begin(), want.end());
    std::vector<OutPkt> out = Out(/*flush=*/false);
    EXPECT_EQ(out.size(), want.size() + tail);
    for (size_t i = 0; i < want.size() && i < out.size(); ++i) {
      EXPECT_TRUE(Identify(out[i].bytes) == want[i])
          << "output " << i << " is pair " << Identify(out[i].bytes).pair
          << " flow " << Identify(out[i].bytes).flow << ", want flow "
          << want[i].flow;
    }
    return out;
  }
  void FeedFragmentOf(int pair) {
    PacketSpec s = OfPair(pair);
    s.proto = IPPROTO_UDP;
    s.df = false;
    s.ip_id = uint16_t(7 + pair);
    s.payload = Payload(1600, pair);
    Feed(Fragment(Build(s), 800)[0]);  // held: more fragments to come
  }
};

TEST_F(PairCount, PairFlowsLeaveBeforeFragmentOrUnparsedPacket) {
  // Uncounted: inserted, then revived by the fast path.
  Round(0);
  ExpectAllFlowsBut(Out(), -1);
  Round(1);
  // The first reader: the first fragment arrives with 768 flows held.
  FeedFragmentOf(3);
  ExpectPairFlushed(1, 3, 0);
  std::vector<OutPkt> rest = Out();
  ExpectAllFlowsBut(rest, 3);
  EXPECT_EQ(rest.size(), size_t(kFlows - kFlows / kPairs + 1));  // + the
                                                                 // fragment
  // Counted: revivals update the counts.
  Round(2);
  FeedFragmentOf(5);
  ExpectPairFlushed(2, 5, 0);
  ExpectAllFlowsBut(Out(), 5);
  // No reader for 8 * 768 retirements: counting stops.
  for (int r = 3; r < 11; ++r) {
    Round(r);
    ExpectAllFlowsBut(Out(), -1);
  }
  // Revived uncounted again; a packet passing unparsed (ICMP) is a reader.
  Round(11);
  PacketSpec icmp = OfPair(9);
  icmp.proto = IPPROTO_ICMP;
  icmp.raw_ip_payload = true;
  icmp.payload = Payload(64, 9);
  const Bytes ping = Build(icmp);
  Feed(ping);
  const std::vector<OutPkt> out = ExpectPairFlushed(11, 9, 1);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(out.back().bytes == ping);
  // And a fragment of another pair right after.
  FeedFragmentOf(10);
  ExpectPairFlushed(11, 10, 0);
  const std::vector<OutPkt> last = Out();
  EXPECT_EQ(last.size(), size_t(kFlows - 2 * (kFlows / kPairs) + 1));
  EXPECT_EQ(ctx_->counters().flushes[kFlushPairOrder],
            uint64_t(4 * (kFlows / kPairs)));
}

}  // namespace
}  // namespace grod::gro::testing
