// What the egress tests share on top of EgressPort: a gtest fixture with a
// fresh port per test that checks every mbuf came back, and the GRO engine
// run over a list of mbufs (the merged or linked packets egress is given).
#ifndef GROD_DATAPLANE_TESTING_EGRESS_FIXTURE_H_
#define GROD_DATAPLANE_TESTING_EGRESS_FIXTURE_H_

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/egress_port.h"
#include "dataplane/testing/packet_builder.h"

namespace grod::dataplane::testing {

// A new EgressPort per test (its name unique in the process) with the GRO
// dynamic field registered. TearDown collects what the port still holds
// and expects every mbuf of its pools back. A subclass sets the port's
// capabilities after EgressPortTest::SetUp() and calls
// EgressPortTest::TearDown() last.
class EgressPortTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `frame` in an mbuf of the port's pool, as if received on the port.
  rte_mbuf* ToMbuf(const gro::testing::Bytes& frame);

  std::unique_ptr<EgressPort> port_;
  uint16_t id_ = 0;
};

// `in` through a new engine context made with `cfg`, one packet per burst
// in order, everything flushed at the end: what the engine emitted, in
// order.
std::vector<rte_mbuf*> ThroughEngine(const std::vector<rte_mbuf*>& in,
                                     gro::Mode mode,
                                     const gro::ContextConfig& cfg = {});

// The problems a validator found, one per line ("" when none), so that a
// failed EXPECT_EQ(Join(...), "") prints them all.
std::string Join(const std::vector<std::string>& lines);

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_EGRESS_FIXTURE_H_
