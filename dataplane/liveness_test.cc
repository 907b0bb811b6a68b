// Worker liveness on the DPDK data plane: a worker lcore that stops polling
// is reported within a second (Ready() false, counters), configuration
// changes fail with UNAVAILABLE naming the lcore instead of hanging, and
// everything works again once it polls again.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/wait_for.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/ring_data_plane_fixture.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;
using ::testing::HasSubstr;

class LivenessTest : public testing::RingDataPlaneTest {
 protected:
  // Stall detection is this test's subject: grod's default threshold.
  void Configure(RuntimeConfig& rc) override { rc.worker_stall_ms = 500; }

  void SetUp() override {
    RingDataPlaneTest::SetUp();
    if (HasFatalFailure()) return;
    lcore_ = dp_->Info().worker_lcores.at(0);
    dp_->SetLivenessCallback([this] { changes_.fetch_add(1); });
  }

  void TearDown() override {
    if (dp_ != nullptr) dp_->SetLivenessCallback(nullptr);
    RingDataPlaneTest::TearDown();
  }

  // Time until Ready() equals `ready`, or nullopt after `limit`.
  std::optional<absl::Duration> TimeUntilReady(bool ready,
                                               absl::Duration limit) {
    const absl::Time start = absl::Now();
    if (!::grod::testing::WaitFor([&] { return dp_->Ready() == ready; },
                                  limit)) {
      return std::nullopt;
    }
    return absl::Now() - start;
  }

  TenantSpec Tenant(const std::string& name) {
    TenantSpec t;
    t.name = name;
    t.selectors.push_back({port_->port_id(), std::nullopt, std::nullopt});
    return t;
  }

  // Traffic goes through `tenant` and comes out whole.
  void ExpectForwarding(const std::string& tenant) {
    FlowAddress f;
    Frames in;
    for (int s = 0; s < 8; ++s) in.push_back(TcpFrame(f, 1 + s * 1000, 1000));
    port_->Inject(in);
    const Frames out = Forwarded();
    EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
    bool seen = false;
    for (const TenantCounters& t : dp_->Stats().tenants) {
      if (t.tenant == tenant) seen = t.packets_in >= in.size();
    }
    EXPECT_TRUE(seen) << tenant << " did not get the traffic";
  }

  unsigned lcore_ = 0;
  std::atomic<int> changes_{0};
};

TEST_F(LivenessTest, AStalledWorkerIsReportedWithinASecondAndRecovers) {
  ASSERT_TRUE(dp_->Ready());
  ASSERT_TRUE(dp_->StallWorkerForTest(lcore_, absl::Seconds(3)).ok());
  const std::optional<absl::Duration> detected =
      TimeUntilReady(false, absl::Seconds(1));
  ASSERT_TRUE(detected.has_value()) << "not detected within a second";
  EXPECT_FALSE(dp_->WorkersAlive());
  EXPECT_EQ(dp_->ReadyStatus().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(dp_->ReadyStatus().message(),
              HasSubstr(absl::StrCat("worker lcore ", lcore_)));
  EXPECT_GE(changes_.load(), 1);
  StatsSnapshot s = dp_->Stats();
  ASSERT_EQ(s.workers.size(), 1u);
  EXPECT_TRUE(s.workers[0].stalled);
  EXPECT_EQ(s.workers[0].stalls, 1u);

  // Changes fail at once, naming the lcore, and change nothing.
  const absl::Time start = absl::Now();
  const absl::Status st = dp_->UpsertTenant(Tenant("blue"));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(st.message(), HasSubstr(absl::StrCat("lcore ", lcore_)));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_EQ(dp_->SetUnmatchedTenant("").code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(TimeUntilReady(true, absl::Seconds(5)).has_value());
  s = dp_->Stats();
  EXPECT_FALSE(s.workers[0].stalled);
  EXPECT_EQ(s.workers[0].stalls, 1u);
  EXPECT_EQ(s.tenants.size(), 1u) << "only _unmatched: blue was refused";
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue")).ok());
  ExpectForwarding("blue");
}

TEST_F(LivenessTest, AChangeWaitingOnAWorkerThatStallsFailsInsteadOfHanging) {
  // The stall is queued before the change's command: the change waits for
  // a worker that stops polling.
  ASSERT_TRUE(dp_->StallWorkerForTest(lcore_, absl::Seconds(3)).ok());
  const absl::Time start = absl::Now();
  const absl::Status st = dp_->UpsertTenant(Tenant("blue"));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(st.message(), HasSubstr(absl::StrCat("worker lcore ", lcore_)));
  // Detected by the monitor (500 ms), well before the 5 s answer timeout
  // and before the stall ends.
  EXPECT_LT(waited, absl::Seconds(2));

  ASSERT_TRUE(TimeUntilReady(true, absl::Seconds(5)).has_value());
  // The worker ran the change and its undo: nothing changed.
  StatsSnapshot s = dp_->Stats();
  EXPECT_EQ(s.tenants.size(), 1u) << "only _unmatched";
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue")).ok());
  ExpectForwarding("blue");
}

TEST_F(LivenessTest, APublicationWaitingOnAStalledWorkerFailsAndIsCleanedUp) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue")).ok());
  // Returns once the worker is stuck; not yet reported (500 ms).
  ASSERT_TRUE(dp_->StallWorkerForTest(lcore_, absl::Seconds(2)).ok());
  ASSERT_TRUE(dp_->WorkersAlive());
  // No worker command, only a new snapshot: the grace period never ends
  // while the worker is stuck.
  const absl::Time start = absl::Now();
  const absl::Status st = dp_->SetUnmatchedTenant("blue");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(st.message(), HasSubstr(absl::StrCat("lcore ", lcore_)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));

  ASSERT_TRUE(TimeUntilReady(true, absl::Seconds(5)).has_value());
  // The next change waits for the recovered worker to leave the retired
  // snapshot, then frees it (ASan checks the rest).
  ASSERT_TRUE(dp_->RemoveTenant("blue").ok());
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue")).ok());
  ExpectForwarding("blue");
}

}  // namespace
}  // namespace grod::dataplane
