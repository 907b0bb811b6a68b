// A GroStage over a fresh ring-backed EgressPort per test, as a worker
// lcore holds it (egress on TX queue 0, VXLAN port 4789, an empty
// snapshot the test fills in).  TearDown flushes what a failed test left
// held and expects every injected and every GSO mbuf back.
#ifndef GROD_DATAPLANE_TESTING_GRO_STAGE_FIXTURE_H_
#define GROD_DATAPLANE_TESTING_GRO_STAGE_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/tenant/config_snapshot.h"
#include "dataplane/testing/egress_port.h"

namespace grod::dataplane::testing {

class GroStageFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    static int next = 0;
    port_ = std::make_unique<EgressPort>("gsf" + std::to_string(next++));
    ASSERT_TRUE(port_->ok()) << port_->error();
    id_ = port_->id();
    egress_ = std::make_unique<Egress>(0, port_->ports(), counters_);
    stage_ = std::make_unique<GroStage>(4789, egress_.get());
    snap_ = std::make_unique<ConfigSnapshot>();
  }

  void TearDown() override {
    stage_.reset();  // flushes whatever a failed test left held
    if (egress_) egress_->FlushAll();
    if (port_) {
      port_->ring().Collect();
      EXPECT_EQ(port_->ring().InjectPoolInUse(), 0u)
          << "an injected mbuf leaked";
      EXPECT_EQ(port_->InUse(), 0u) << "a GSO mbuf leaked";
    }
    port_.reset();
  }

  TenantCounters Counters(uint16_t slot) const {
    TenantCounters c;
    stage_->AddCounters(slot, &c);
    return c;
  }

  std::unique_ptr<EgressPort> port_;
  uint16_t id_ = 0;
  PortLcoreCounters counters_[RTE_MAX_ETHPORTS];
  std::unique_ptr<Egress> egress_;
  std::unique_ptr<GroStage> stage_;
  std::unique_ptr<ConfigSnapshot> snap_;
};

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_GRO_STAGE_FIXTURE_H_
