// Two worker lcores, one RX queue each (as RSS would spread flows): every
// tenant has a context on each lcore, a flow stays on its lcore, config
// changes reach both, and counters are summed across them.
#include <thread>

#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/ring_port.h"
#include "grod/sample_traffic.h"
#include "gtest/gtest.h"
#include "tests/testing/flow_streams.h"

namespace grod::dataplane {
namespace {

using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;
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
  Frames out = port.CollectUntilQuiet(400);
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
  // Each flow was complete on its own lcore: all 16 segments in one merge.
  EXPECT_EQ(both.segments_merged, in.size());
  EXPECT_EQ(both.merged_packets_out, 8u);

  // A change reaches both lcores: with the tenant gone, both bypass.
  ASSERT_TRUE((*dp)->RemoveTenant("both").ok());
  port.Inject(Bulk(0, 1, 4), 0);
  port.Inject(Bulk(100, 1, 4), 1);
  port.CollectUntilQuiet();
  s = (*dp)->Stats();
  ASSERT_EQ(s.tenants.back().tenant, "_unmatched");
  EXPECT_EQ(s.tenants.back().packets_in, 8u);

  (*dp)->Stop();
  port.Collect();
  EXPECT_EQ(port.InjectPoolInUse(), 0u);
  EXPECT_EQ((*dp)->MbufsInUse(), 0u);
}

}  // namespace
}  // namespace grod::dataplane
