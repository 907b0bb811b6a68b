// GroStage's budgeted flush policies, driven iteration by iteration as
// Worker::Run drives them, over a ring-backed port whose egress has no TSO
// (so MERGE tenants' flows are linked, not merged: see
// merge_as_list_test.cc): many due flows leave over several iterations, at
// most GroStage::kFlushBudget per iteration, with nothing lost, duplicated
// or reordered, and every mbuf comes back.
#include "dataplane/runtime/gro_stage.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/worker.h"
#include "dataplane/testing/egress_port.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/gro_stage_fixture.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;

constexpr size_t kMss = 1448;
constexpr uint32_t kBudget = GroStage::kFlushBudget;
constexpr uint64_t kTimeout = 1000;  // TSC cycles; the test supplies `now`

// Two MSS segments of each of `n` flows (source ports from `first`),
// interleaved: every flow's first segment, then every flow's second, so
// flows are created in order.
Frames TwoSegmentFlows(int n, uint16_t vlan = 0, int first = 0) {
  Frames frames;
  for (uint32_t s = 0; s < 2; ++s) {
    for (int i = 0; i < n; ++i) {
      FlowAddress a;
      a.sport = uint16_t(20000 + first + i);
      a.vlan = vlan;
      frames.push_back(TcpFrame(a, 1 + s * kMss, kMss));
    }
  }
  return frames;
}

class GroStageTest : public testing::GroStageFixture {
 protected:
  void SetUp() override {
    GroStageFixture::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_FALSE(port_->caps().tcp_tso) << "the test wants a port without TSO";
  }

  void AddTenant(uint16_t slot, FlushKind kind, uint64_t timeout_tsc) {
    TenantRuntime& t = snap_->tenants[slot];
    t.active = true;
    t.default_mode = GroMode::kMerge;
    t.flush_kind = kind;
    t.timeout_tsc = timeout_tsc;
    WorkerCommand create{WorkerCommand::Kind::kCreate, slot, {}};
    ASSERT_TRUE(stage_->Execute(create));
  }

  // One iteration of Worker::Run with one RX queue: a burst, GRO, the
  // flush policies, egress.  Returns what FlushByPolicy returned.
  bool Iterate(uint64_t now, uint16_t* received = nullptr) {
    stage_->BeginIteration(*snap_);
    constexpr uint16_t kBurst = Worker::kBurst;
    rte_mbuf* pkts[kBurst];
    const uint16_t n = rte_eth_rx_burst(id_, 0, pkts, kBurst);
    for (uint16_t i = 0; i < n; ++i) pkts[i]->port = id_;
    if (n != 0) stage_->ProcessBurst(*snap_, pkts, n, now);
    const bool pending = stage_->FlushByPolicy(*snap_, now, n == kBurst);
    egress_->FlushAll();
    if (received != nullptr) *received = n;
    return pending;
  }

  // Receives everything injected at time `now` (nothing is due yet).
  void ReceiveAll(uint64_t now) {
    uint16_t n;
    do {
      EXPECT_FALSE(Iterate(now, &n));
    } while (n != 0);
  }

  uint64_t Flushes(uint16_t slot, const std::string& reason) const {
    const TenantCounters c = Counters(slot);
    const auto it = c.flushes.find(reason);
    return it == c.flushes.end() ? 0 : it->second;
  }
};

TEST_F(GroStageTest, TimeoutTenantDrainsManyDueFlowsAcrossIterations) {
  snap_->unmatched_slot = 0;
  AddTenant(0, FlushKind::kTimeout, kTimeout);
  constexpr int kFlows = 3 * kBudget + 100;
  const Frames in = TwoSegmentFlows(kFlows);
  port_->ring().Inject(in);
  ReceiveAll(/*now=*/100);
  ASSERT_EQ(Counters(0).held_flows, uint64_t(kFlows));
  EXPECT_TRUE(port_->ring().Collect().empty()) << "nothing is due yet";

  // All due at once: kBudget flows (2 GSO segments each) per iteration.
  Frames out;
  const uint64_t due = 100 + kTimeout;
  for (const uint32_t left : {2 * kBudget + 100, kBudget + 100, 100u}) {
    EXPECT_TRUE(Iterate(due));
    EXPECT_EQ(Counters(0).held_flows, left);
    Frames got = port_->ring().Collect();
    EXPECT_EQ(got.size(), 2 * kBudget);
    out.insert(out.end(), got.begin(), got.end());
  }
  EXPECT_FALSE(Iterate(due)) << "the last 100 fit the budget";
  Frames got = port_->ring().Collect();
  EXPECT_EQ(got.size(), 200u);
  out.insert(out.end(), got.begin(), got.end());

  EXPECT_EQ(out.size(), in.size());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  const TenantCounters c = Counters(0);
  EXPECT_EQ(c.held_packets, 0u);
  EXPECT_EQ(c.flushes.at("timeout"), uint64_t(kFlows));
  // No TSO: linked, not merged, so egress sends the frames as they came.
  EXPECT_EQ(c.merge_as_list_packets, in.size());
  EXPECT_EQ(c.segments_listed, in.size());
  EXPECT_EQ(counters_[id_].gso_segments, 0u);
  // (Flow by flow, in order per flow as DiffStreams checked above.)
  Frames sorted_in = in, sorted_out = out;
  std::sort(sorted_in.begin(), sorted_in.end());
  std::sort(sorted_out.begin(), sorted_out.end());
  EXPECT_TRUE(sorted_out == sorted_in) << "every frame as it came";
  EXPECT_EQ(counters_[id_].tx_dropped, 0u);
}

TEST_F(GroStageTest, AdaptiveIdleFlushIsBudgetedToo) {
  snap_->unmatched_slot = 0;
  AddTenant(0, FlushKind::kAdaptive, /*timeout_tsc=*/1'000'000'000);
  constexpr int kFlows = 2 * kBudget + 50;
  const Frames in = TwoSegmentFlows(kFlows);
  port_->ring().Inject(in);
  // Full bursts: busy, nothing is due.  The last, short burst means an
  // idle queue: from then on the oldest flows leave, kBudget at a time.
  Frames out;
  int idle_flushes = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t before = Flushes(0, "burst_end");
    uint16_t n;
    const bool pending = Iterate(/*now=*/100, &n);
    const uint64_t emitted = Flushes(0, "burst_end") - before;
    EXPECT_LE(emitted, kBudget);
    EXPECT_EQ(pending, emitted == kBudget);
    if (n == Worker::kBurst) {
      EXPECT_EQ(emitted, 0u) << "busy: nothing is due";
    }
    idle_flushes += emitted != 0;
    Frames got = port_->ring().Collect();
    out.insert(out.end(), got.begin(), got.end());
    if (n == 0 && Counters(0).held_flows == 0) break;
  }
  EXPECT_EQ(idle_flushes, 3);  // 256 + 256 + 50 flows
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  EXPECT_EQ(Counters(0).flushes.at("burst_end"), uint64_t(kFlows));
}

// One tenant's backlog must not hold back another's due flows: the budget
// goes round robin over the tenants.
TEST_F(GroStageTest, TenantsShareTheBudgetRoundRobin) {
  ASSERT_TRUE(snap_->classifier.Add({std::nullopt, 10, std::nullopt}, 0).ok());
  ASSERT_TRUE(snap_->classifier.Add({std::nullopt, 20, std::nullopt}, 1).ok());
  AddTenant(0, FlushKind::kTimeout, kTimeout);
  AddTenant(1, FlushKind::kTimeout, kTimeout);
  const Frames big = TwoSegmentFlows(3 * kBudget, /*vlan=*/10);
  const Frames small = TwoSegmentFlows(10, /*vlan=*/20, /*first=*/5000);
  port_->ring().Inject(big);
  port_->ring().Inject(small);
  ReceiveAll(/*now=*/100);
  ASSERT_EQ(Counters(0).held_flows, 3 * kBudget);
  ASSERT_EQ(Counters(1).held_flows, 10u);

  const uint64_t due = 100 + kTimeout;
  EXPECT_TRUE(Iterate(due));  // slot 0 takes the whole budget
  EXPECT_EQ(Counters(0).held_flows, 2 * kBudget);
  EXPECT_EQ(Counters(1).held_flows, 10u);
  EXPECT_TRUE(Iterate(due));  // slot 1 goes first now, slot 0 gets the rest
  EXPECT_EQ(Counters(1).held_flows, 0u);
  EXPECT_EQ(Counters(0).held_flows, kBudget + 10);
  EXPECT_TRUE(Iterate(due));
  EXPECT_FALSE(Iterate(due));
  EXPECT_EQ(Counters(0).held_flows, 0u);

  Frames in = big;
  in.insert(in.end(), small.begin(), small.end());
  const Frames out = port_->ring().Collect();
  EXPECT_EQ(out.size(), in.size());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
}

// A new classification epoch flushes only the tenants stamped with an
// epoch newer than the one this lcore saw -- also when it skipped the
// snapshot that stamped them.
TEST_F(GroStageTest, ANewEpochFlushesOnlyTheReclassifiedTenants) {
  ASSERT_TRUE(snap_->classifier.Add({std::nullopt, 10, std::nullopt}, 0).ok());
  ASSERT_TRUE(snap_->classifier.Add({std::nullopt, 20, std::nullopt}, 1).ok());
  AddTenant(0, FlushKind::kTimeout, /*timeout_tsc=*/1'000'000'000);
  AddTenant(1, FlushKind::kTimeout, /*timeout_tsc=*/1'000'000'000);
  const Frames a = TwoSegmentFlows(5, 10, 0);
  const Frames b = TwoSegmentFlows(7, 20, 100);
  port_->ring().Inject(a);
  port_->ring().Inject(b);
  ReceiveAll(100);
  ASSERT_EQ(Counters(0).held_flows, 5u);
  ASSERT_EQ(Counters(1).held_flows, 7u);

  snap_->classification_epoch = 1;
  snap_->tenants[1].reclassified_epoch = 1;
  Iterate(100);
  EXPECT_EQ(Counters(0).held_flows, 5u) << "slot 0 was not reclassified";
  EXPECT_EQ(Counters(1).held_flows, 0u);
  EXPECT_EQ(Flushes(1, "config"), 7u);
  Frames out = port_->ring().Collect();

  // Epoch 2 stamped slot 0; this lcore goes from epoch 1 straight to 3.
  snap_->classification_epoch = 3;
  snap_->tenants[0].reclassified_epoch = 2;
  Iterate(100);
  EXPECT_EQ(Counters(0).held_flows, 0u);
  EXPECT_EQ(Flushes(0, "config"), 5u);
  EXPECT_EQ(Flushes(1, "config"), 7u) << "flushed once only";
  Frames rest = port_->ring().Collect();
  out.insert(out.end(), rest.begin(), rest.end());
  Frames in = a;
  in.insert(in.end(), b.begin(), b.end());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
}

// Pool pressure: the tenant holding the most goes first, oldest flows
// first; the next one only once it holds less.
TEST_F(GroStageTest, PressureReliefFlushesTheLargestHolderFirst) {
  ASSERT_TRUE(snap_->classifier.Add({std::nullopt, 10, std::nullopt}, 0).ok());
  ASSERT_TRUE(snap_->classifier.Add({std::nullopt, 20, std::nullopt}, 1).ok());
  AddTenant(0, FlushKind::kTimeout, /*timeout_tsc=*/1'000'000'000);
  AddTenant(1, FlushKind::kTimeout, /*timeout_tsc=*/1'000'000'000);
  const Frames small = TwoSegmentFlows(4, 20, 100);
  const Frames large = TwoSegmentFlows(40, 10, 0);
  port_->ring().Inject(small);
  port_->ring().Inject(large);
  ReceiveAll(100);
  ASSERT_EQ(Counters(0).held_packets, 80u);
  ASSERT_EQ(Counters(1).held_packets, 8u);

  EXPECT_EQ(stage_->RelievePressure(10), 10u);
  EXPECT_EQ(Flushes(0, "pressure"), 10u);
  EXPECT_EQ(Flushes(1, "pressure"), 0u);
  EXPECT_EQ(Counters(1).held_packets, 8u);
  // 30 flows (60 packets) left in slot 0: all of them, then slot 1's.
  EXPECT_EQ(stage_->RelievePressure(32), 32u);
  EXPECT_EQ(Flushes(0, "pressure"), 40u);
  EXPECT_EQ(Flushes(1, "pressure"), 2u);
  EXPECT_EQ(stage_->RelievePressure(100), 2u) << "only 2 flows left";
  EXPECT_EQ(stage_->RelievePressure(100), 0u);
  egress_->FlushAll();

  const Frames out = port_->ring().Collect();
  Frames in = small;
  in.insert(in.end(), large.begin(), large.end());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
}

}  // namespace
}  // namespace grod::dataplane
