// A test fixture: the real DpdkDataPlane forwarding on one ring port (its
// own peer), torn down with the leak checks every data-plane test makes.
#ifndef GROD_DATAPLANE_TESTING_RING_DATA_PLANE_FIXTURE_H_
#define GROD_DATAPLANE_TESTING_RING_DATA_PLANE_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/ring_port.h"
#include "dataplane/testing/settled.h"
#include "gtest/gtest.h"

namespace grod::dataplane::testing {

class RingDataPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitTestEal();
    // Ring names are process-wide: one per test.
    port_ = std::make_unique<RingPort>("dp" + std::to_string(next_port_++));
    RuntimeConfig rc;
    rc.ports.push_back({port_->name(), "", 256, 256});
    rc.mbufs = 8191;
    rc.idle_sleep_us = 20;
    // On a loaded machine a worker lcore can lose the CPU past the 500 ms
    // default; these tests are not about stall detection (liveness_test is).
    rc.worker_stall_ms = 5000;
    Configure(rc);
    absl::StatusOr<std::unique_ptr<DpdkDataPlane>> dp =
        DpdkDataPlane::Start(rc);
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = *std::move(dp);
    ASSERT_TRUE(dp_->Ready());
    dp_->StartForwarding();
  }

  void TearDown() override {
    if (dp_ == nullptr) return;
    dp_->Stop();
    port_->Collect();
    EXPECT_EQ(port_->InjectPoolInUse(), 0u) << "an injected mbuf leaked";
    EXPECT_EQ(dp_->MbufsInUse(), 0u) << "a data-plane mbuf leaked";
  }

  // What the data plane sent, once it has received every injected frame,
  // holds `held` packets and has transmitted the rest (its counters say so:
  // no quiet period to guess).
  std::vector<std::vector<uint8_t>> Forwarded(uint64_t held = 0) {
    const absl::Status settled =
        WaitUntilSettled(*dp_, port_->injected(), held);
    EXPECT_TRUE(settled.ok()) << settled;
    return port_->Collect();
  }

  // A subclass's changes to the data plane's configuration, before it
  // starts.
  virtual void Configure(RuntimeConfig& /*rc*/) {}

  std::unique_ptr<RingPort> port_;
  std::unique_ptr<DpdkDataPlane> dp_;

 private:
  static inline int next_port_ = 0;
};

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_RING_DATA_PLANE_FIXTURE_H_
