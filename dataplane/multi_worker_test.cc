// Two worker lcores, one RX queue each (as RSS would spread flows): every
// tenant has a context on each lcore, a flow stays on its lcore, config
// changes reach both, and counters are summed across them.
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "common/testing/wait_for.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/ring_port.h"
#include "dataplane/testing/settled.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;
using ::grod::testing::WaitFor;
using Frames = std::vector<std::vector<uint8_t>>;

Frames Bulk(int first_flow, int flows, int segments) {
  Frames frames;
  for (int s = 0; s < segments; ++s) {
    for (int f = first_flow; f < first_flow + flows; ++f) {
      FlowAddress a;
      a.src_v4 = 0x0a000001 + f;
      a.sport = 30000 + f;
      frames.push_back(TcpFrame(a, 1 + s * 1448, 1448));
    }
  }
  return frames;
}

TEST(MultiWorkerTest, TenantsSpanLcoresAndCountersAddUp) {
  testing::InitTestEal(/*workers=*/2);
  testing::RingPort port("mw", /*queues=*/2);
  RuntimeConfig rc;
  rc.ports.push_back({port.name(), "", 256, 256});
  rc.mbufs = 8191;
  rc.idle_sleep_us = 20;
  absl::StatusOr<std::unique_ptr<DpdkDataPlane>> dp = DpdkDataPlane::Start(rc);
  ASSERT_TRUE(dp.ok()) << dp.status();
  ASSERT_EQ((*dp)->Info().worker_lcores.size(), 2u);
  ASSERT_EQ((*dp)->Ports()[0].rx_queues, 2);
  (*dp)->StartForwarding();

  TenantSpec t;
  t.name = "both";
  t.selectors.push_back({port.port_id(), std::nullopt, std::nullopt});
  t.flush.kind = FlushKind::kTimeout;
  t.flush.timeout_ns = 100'000'000;
  ASSERT_TRUE((*dp)->UpsertTenant(t).ok());

  const Frames q0 = Bulk(0, 4, 16), q1 = Bulk(100, 4, 16);
  std::thread a([&] { port.Inject(q0, 0); });
  std::thread b([&] { port.Inject(q1, 1); });
  a.join();
  b.join();
  absl::Status settled = testing::WaitUntilSettled(**dp, port.injected());
  ASSERT_TRUE(settled.ok()) << settled;
  Frames out = port.Collect();
  Frames in = q0;
  in.insert(in.end(), q1.begin(), q1.end());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");

  StatsSnapshot s = (*dp)->Stats();
  ASSERT_EQ(s.workers.size(), 2u);
  for (const WorkerCounters& w : s.workers) {
    EXPECT_GT(w.busy_cycles, 0u) << "lcore " << w.lcore << " did no work";
  }
  const TenantCounters& both = s.tenants[0];
  EXPECT_EQ(both.tenant, "both");
  EXPECT_EQ(both.packets_in, in.size());
  // Each flow was complete on its own lcore: all 16 segments in one list
  // (MERGE, linked: the ring port has no TSO).
  EXPECT_EQ(both.segments_listed, in.size());
  EXPECT_EQ(both.list_packets_out, 8u);
  EXPECT_EQ(both.merge_as_list_packets, in.size());

  // A change reaches both lcores: with the tenant gone, both bypass.
  ASSERT_TRUE((*dp)->RemoveTenant("both").ok());
  port.Inject(Bulk(0, 1, 4), 0);
  port.Inject(Bulk(100, 1, 4), 1);
  settled = testing::WaitUntilSettled(**dp, port.injected());
  ASSERT_TRUE(settled.ok()) << settled;
  port.Collect();
  s = (*dp)->Stats();
  ASSERT_EQ(s.tenants.back().tenant, "_unmatched");
  EXPECT_EQ(s.tenants.back().packets_in, 8u);

  (*dp)->Stop();
  port.Collect();
  EXPECT_EQ(port.InjectPoolInUse(), 0u);
  EXPECT_EQ((*dp)->MbufsInUse(), 0u);
}

// One of two lcores stuck: it is the one named, the other keeps
// forwarding, and what arrived on the stuck one's queue leaves once it
// recovers. Another tenant's change meanwhile is refused, and once both
// poll, it leaves the held flows of a third tenant alone on both lcores.
TEST(MultiWorkerTest, OneStuckLcoreIsNamedAndTheOtherKeepsForwarding) {
  testing::InitTestEal(/*workers=*/2);
  testing::RingPort port("mw_stuck", /*queues=*/2);
  RuntimeConfig rc;
  rc.ports.push_back({port.name(), "", 256, 256});
  rc.mbufs = 8191;
  rc.idle_sleep_us = 20;
  absl::StatusOr<std::unique_ptr<DpdkDataPlane>> started =
      DpdkDataPlane::Start(rc);
  ASSERT_TRUE(started.ok()) << started.status();
  DpdkDataPlane& dp = **started;
  dp.StartForwarding();
  const std::vector<uint32_t> lcores = dp.Info().worker_lcores;
  ASSERT_EQ(lcores.size(), 2u);

  TenantSpec holder;  // VLAN 20, held for 30 s
  holder.name = "holder";
  holder.selectors.push_back({port.port_id(), uint16_t{20}, std::nullopt});
  holder.flush.kind = FlushKind::kTimeout;
  holder.flush.timeout_ns = 30'000'000'000;
  TenantSpec other = holder;  // VLAN 10
  other.name = "other";
  other.selectors = {{port.port_id(), uint16_t{10}, std::nullopt}};
  ASSERT_TRUE(dp.UpsertTenant(holder).ok());
  ASSERT_TRUE(dp.UpsertTenant(other).ok());
  auto vlan_flows = [](int first, uint16_t vlan) {
    Frames frames;
    for (int s = 0; s < 4; ++s) {
      for (int f = first; f < first + 3; ++f) {
        FlowAddress a;
        a.src_v4 = 0x0a000001 + f;
        a.sport = 30000 + f;
        a.vlan = vlan;
        frames.push_back(TcpFrame(a, 1 + s * 1448, 1448));
      }
    }
    return frames;
  };
  const Frames held0 = vlan_flows(0, 20), held1 = vlan_flows(100, 20);
  port.Inject(held0, 0);
  port.Inject(held1, 1);

  ASSERT_TRUE(dp.StallWorkerForTest(lcores[1], absl::Seconds(2)).ok());
  ASSERT_TRUE(WaitFor([&] { return !dp.Ready(); }, absl::Seconds(1)))
      << "not detected within a second";
  const std::string why(dp.ReadyStatus().message());
  EXPECT_NE(why.find("worker lcore " + std::to_string(lcores[1])),
            std::string::npos)
      << why;
  EXPECT_EQ(why.find("lcore " + std::to_string(lcores[0]) + " "),
            std::string::npos)
      << why;
  const StatsSnapshot s = dp.Stats();
  EXPECT_FALSE(s.workers[0].stalled);
  EXPECT_TRUE(s.workers[1].stalled);

  // The live lcore forwards; the stuck one's queue waits.
  const Frames live = Bulk(200, 2, 4), stuck = Bulk(300, 2, 4);
  port.Inject(stuck, 1);
  port.Inject(live, 0);
  Frames out = port.CollectAtLeast(live.size(), 1000);
  EXPECT_EQ(DiffStreams(SplitFlows(live), SplitFlows(out)), "");
  EXPECT_TRUE(dp.Stats().workers[1].stalled) << "the stall ended too early";
  other.selectors = {{port.port_id(), uint16_t{30}, std::nullopt}};
  EXPECT_EQ(dp.UpsertTenant(other).code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(WaitFor([&] { return dp.Ready(); }));
  const absl::Status settled = testing::WaitUntilSettled(
      dp, port.injected(), /*held=*/held0.size() + held1.size());
  ASSERT_TRUE(settled.ok()) << settled;
  Frames late = port.Collect();
  EXPECT_EQ(DiffStreams(SplitFlows(stuck), SplitFlows(late)), "");

  // Now the change goes through, and "holder" still holds on both lcores.
  ASSERT_TRUE(dp.UpsertTenant(other).ok());
  uint64_t held = 0;
  for (const TenantCounters& t : dp.Stats().tenants) {
    if (t.tenant == "holder") held = t.held_packets;
  }
  EXPECT_EQ(held, held0.size() + held1.size());

  dp.Stop();
  Frames rest = port.Collect();
  Frames in = held0;
  in.insert(in.end(), held1.begin(), held1.end());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(rest)), "");
  EXPECT_EQ(port.InjectPoolInUse(), 0u);
  EXPECT_EQ(dp.MbufsInUse(), 0u);
}

}  // namespace
}  // namespace grod::dataplane
