// Each port gets the descriptor rings its own PortSpec asks for, and the
// mbuf reserve counts each port's rings (docs/OPERATIONS.md, "Resource
// admission": ports x queues x (rx + tx descriptors), per port).
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/ring_port.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

struct Rings {
  uint16_t rx, tx;
};

// Starts the data plane on fresh ring ports with these descriptor counts
// (in this order) and returns its mbuf budget.
MbufBudget BudgetWith(const std::vector<Rings>& rings) {
  static int next = 0;
  std::vector<std::unique_ptr<testing::RingPort>> ports;
  RuntimeConfig rc;
  for (const Rings& r : rings) {
    ports.push_back(
        std::make_unique<testing::RingPort>("desc" + std::to_string(next++)));
    rc.ports.push_back({ports.back()->name(), "", r.rx, r.tx});
  }
  rc.mbufs = 16383;
  absl::StatusOr<std::unique_ptr<DpdkDataPlane>> dp = DpdkDataPlane::Start(rc);
  EXPECT_TRUE(dp.ok()) << dp.status();
  if (!dp.ok()) return {};
  const MbufBudget budget = (*dp)->Mbufs();
  (*dp)->Stop();
  return budget;
}

TEST(PortDescriptorsTest, EveryPortCountsItsOwnRings) {
  testing::InitTestEal();
  const MbufBudget small = BudgetWith({{64, 64}, {64, 64}});
  const MbufBudget mixed = BudgetWith({{64, 64}, {512, 1024}});
  const MbufBudget swapped = BudgetWith({{512, 1024}, {64, 64}});
  ASSERT_GT(small.worker_lcores, 0u);
  const uint64_t queues = small.worker_lcores;  // one queue pair per worker
  // The second port's rings grew by (512 - 64) + (1024 - 64) per queue;
  // nothing else changed.
  EXPECT_EQ(mixed.reserve - small.reserve, queues * ((512 - 64) + (1024 - 64)));
  // Which port is listed first does not matter.
  EXPECT_EQ(swapped.reserve, mixed.reserve);
}

}  // namespace
}  // namespace grod::dataplane
