// Budgeted flushes (FlushTimedOut / FlushOldest with max_flows), which let a
// poll loop bound its work per iteration: the budget is respected, the
// oldest flows go first, and draining over many calls loses, duplicates and
// reorders nothing -- also when packets arrive between the calls.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint32_t kSegLen = 500;
constexpr uint16_t kFirstPort = 1000;
constexpr uint64_t kLongAgo = 1'000'000;  // `now` at which every flow is due

// Segment `s` of flow `flow`: the flow is its source port; the payload
// depends on both, so a misplaced segment shows.
PacketSpec SegSpec(uint32_t flow, uint32_t s) {
  PacketSpec p;
  p.sport = uint16_t(kFirstPort + flow);
  p.seq = 1000 + s * kSegLen;
  p.payload = Payload(kSegLen, flow * 131 + s);
  return p;
}
Bytes Seg(uint32_t flow, uint32_t s) { return Build(SegSpec(flow, s)); }

uint32_t FlowOf(const OutPkt& o) {
  const size_t l4 = o.l2_len + o.l3_len;
  return uint32_t(o.bytes[l4] << 8 | o.bytes[l4 + 1]) - kFirstPort;
}

// TCP payload of a plain or merged output.
Bytes TcpPayload(const OutPkt& o) {
  return Bytes(o.bytes.begin() + o.l2_len + o.l3_len + o.l4_len, o.bytes.end());
}

class FlushBudget : public EngineTest {
 protected:
  // Holds `segs` segments of each of `flows` flows, fed round-robin; flow
  // i is created at time i.  Records what each flow's stream must be.
  void Hold(uint32_t flows, uint32_t segs, Mode mode = Mode::kMerge) {
    for (uint32_t s = 0; s < segs; ++s) {
      for (uint32_t f = 0; f < flows; ++f) Add(f, s, mode, f);
    }
  }
  void Add(uint32_t flow, uint32_t s, Mode mode, uint64_t now) {
    Feed(Seg(flow, s), mode, now);
    const Bytes& p = SegSpec(flow, s).payload;
    Bytes& want = want_[flow];
    want.insert(want.end(), p.begin(), p.end());
  }
  // Consumes the outputs so far and appends them to each flow's stream;
  // returns the flows of the outputs, in output order.
  std::vector<uint32_t> Take() {
    std::vector<uint32_t> flows;
    for (const OutPkt& o : Out(false)) {
      const uint32_t f = FlowOf(o);
      const Bytes p = TcpPayload(o);
      got_[f].insert(got_[f].end(), p.begin(), p.end());
      flows.push_back(f);
    }
    return flows;
  }

  std::map<uint32_t, Bytes> want_, got_;
};

TEST_F(FlushBudget, TimedOutEmitsAtMostBudgetOldestFirstUntilDrained) {
  // 3000 held packets: more than a tenant's default quota (2048), which
  // would evict flows before the budgeted flush this test is about.
  ContextConfig cfg;
  cfg.max_held_packets = 4096;
  Make(cfg);
  Hold(1000, 3);
  ASSERT_EQ(ctx_->held_flows(), 1000u);

  EXPECT_EQ(ctx_->FlushTimedOut(kLongAgo, 1, &col_.out, 0), 0u);
  EXPECT_TRUE(Take().empty());

  std::vector<uint32_t> order;
  const uint32_t budgets[] = {100, 256, 256, 256, 256, 256};
  const uint32_t emitted[] = {100, 256, 256, 256, 132, 0};
  for (int call = 0; call < 6; ++call) {
    const uint32_t held = ctx_->held_flows();
    const uint32_t n =
        ctx_->FlushTimedOut(kLongAgo, 1, &col_.out, budgets[call]);
    EXPECT_EQ(n, emitted[call]) << "call " << call;
    EXPECT_EQ(ctx_->held_flows(), held - n);
    const std::vector<uint32_t> flows = Take();
    EXPECT_EQ(flows.size(), n);  // one merged packet per flow
    order.insert(order.end(), flows.begin(), flows.end());
  }
  // Oldest first, each flow exactly once.
  std::vector<uint32_t> want_order(1000);
  std::iota(want_order.begin(), want_order.end(), 0u);
  EXPECT_EQ(order, want_order);
  EXPECT_EQ(got_, want_);
  EXPECT_EQ(ctx_->held_packets(), 0u);
  EXPECT_EQ(ctx_->counters().flushes[kFlushTimeout], 1000u);
  EXPECT_EQ(ctx_->counters().segments_merged, 3000u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_);
}

TEST_F(FlushBudget, TimedOutStopsAtTheFirstYoungFlow) {
  Make();
  Hold(1000, 2);
  // Created at 0..999; at 1000 with age 700, flows 0..300 are due.
  EXPECT_EQ(ctx_->FlushTimedOut(1000, 700, &col_.out, 256), 256u);
  EXPECT_EQ(ctx_->FlushTimedOut(1000, 700, &col_.out, 256), 45u);
  EXPECT_EQ(ctx_->FlushTimedOut(1000, 700, &col_.out, 256), 0u);
  EXPECT_EQ(ctx_->held_flows(), 699u);
  const std::vector<uint32_t> flows = Take();
  ASSERT_EQ(flows.size(), 301u);
  for (uint32_t i = 0; i < 301; ++i) EXPECT_EQ(flows[i], i);
}

// What a poll loop does: a budgeted flush, then more packets (of flows
// already emitted and of flows still held), then the next flush.
TEST_F(FlushBudget, ArrivalsBetweenCallsKeepEachFlowInOrder) {
  Make();
  Hold(600, 2);
  EXPECT_EQ(ctx_->FlushTimedOut(kLongAgo, 1, &col_.out, 100), 100u);
  // Flows 0..99 start over as new (youngest) flows; 100..599 are still
  // held, and their third segment joins them.
  for (uint32_t f = 0; f < 600; ++f) Add(f, 2, Mode::kMerge, 2000);
  EXPECT_EQ(ctx_->held_flows(), 600u);
  std::vector<uint32_t> order = Take();
  uint32_t n;
  while ((n = ctx_->FlushTimedOut(kLongAgo, 1, &col_.out, 64)) != 0) {
    EXPECT_LE(n, 64u);
    const std::vector<uint32_t> flows = Take();
    EXPECT_EQ(flows.size(), n);
    order.insert(order.end(), flows.begin(), flows.end());
  }
  // 0..99 (first two segments), 100..599 (all three), 0..99 (the third).
  ASSERT_EQ(order.size(), 700u);
  for (uint32_t i = 0; i < 700; ++i) EXPECT_EQ(order[i], i % 600);
  EXPECT_EQ(got_, want_);
  EXPECT_EQ(ctx_->held_packets(), 0u);
}

// Flows of one to four segments, some with a gap (two runs, two outputs),
// in MERGE and LIST mode: any budget gives exactly the outputs and
// counters of one unbudgeted flush.
TEST_F(FlushBudget, SameOutputsAsOneUnbudgetedFlush) {
  for (const Mode mode : {Mode::kMerge, Mode::kList}) {
    for (const uint32_t budget : {1u, 7u, 256u}) {
      SCOPED_TRACE(::testing::Message()
                   << "mode " << int(mode) << " budget " << budget);
      Make();
      std::unique_ptr<Context> ref = Context::Create({});
      ASSERT_NE(ref, nullptr);
      Collector ref_col;
      const ParseConfig pc;
      for (uint32_t f = 0; f < 300; ++f) {
        for (uint32_t s = 0; s <= f % 4; ++s) {
          if (f % 5 == 0 && s == 1) continue;  // a gap: two runs
          const Bytes b = Seg(f, s);
          Feed(b, mode, f);
          rte_mbuf* m = ToMbuf(pool_, b);
          ASSERT_NE(m, nullptr);
          ParsedPacket p;
          Parse(m, pc, &p);
          ref->Process(m, p, mode, f, &ref_col.out);
        }
      }
      ref->FlushTimedOut(kLongAgo, 1, &ref_col.out);
      std::vector<OutPkt> want;
      for (rte_mbuf* m : ref_col.Take()) want.push_back(Consume(m));

      std::vector<OutPkt> got;
      uint32_t calls = 0;
      while (ctx_->FlushTimedOut(kLongAgo, 1, &col_.out, budget) != 0) {
        ++calls;
      }
      for (const OutPkt& o : Out(false)) got.push_back(o);
      EXPECT_EQ(calls, (300 + budget - 1) / budget);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].bytes, want[i].bytes) << "output " << i;
        EXPECT_EQ(got[i].members, want[i].members) << "output " << i;
      }
      const Counters &a = ctx_->counters(), &b = ref->counters();
      EXPECT_EQ(a.packets_out, b.packets_out);
      EXPECT_EQ(a.segments_merged, b.segments_merged);
      EXPECT_EQ(a.segments_listed, b.segments_listed);
      EXPECT_EQ(a.flushes[kFlushTimeout], 300u);
      EXPECT_EQ(b.flushes[kFlushTimeout], 300u);
      ctx_.reset();
    }
  }
  EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_);
}

TEST_F(FlushBudget, OldestIgnoresAgeAndDrainsInOrder) {
  Make();
  Hold(500, 2, Mode::kList);
  // No time is given: flows go whether due or not, oldest first.
  std::vector<uint32_t> order;
  for (const uint32_t want : {200u, 200u, 100u, 0u}) {
    EXPECT_EQ(ctx_->FlushOldest(&col_.out, 200, kFlushBurstEnd), want);
    for (const OutPkt& o : Out(false)) {
      // A list of the flow's two original packets, in order.
      const uint32_t f = FlowOf(o);
      order.push_back(f);
      EXPECT_TRUE(o.list);
      const std::vector<Bytes> members = {Seg(f, 0), Seg(f, 1)};
      EXPECT_EQ(o.members, members) << "flow " << f;
    }
  }
  std::vector<uint32_t> want_order(500);
  std::iota(want_order.begin(), want_order.end(), 0u);
  EXPECT_EQ(order, want_order);
  EXPECT_EQ(ctx_->counters().flushes[kFlushBurstEnd], 500u);
  EXPECT_EQ(ctx_->held_packets(), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_);
}

}  // namespace
}  // namespace grod::gro::testing
