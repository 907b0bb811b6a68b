// DPDK for unit tests: EAL without hugepages/PCI, one shared mbuf pool, and
// a fixture that checks every test returns all mbufs it took.
#ifndef GROD_DATAPLANE_TESTING_DPDK_ENV_H_
#define GROD_DATAPLANE_TESTING_DPDK_ENV_H_

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <vector>

#include "dataplane/gro/gro_engine.h"

namespace grod::gro::testing {

// Initializes the EAL once per process (idempotent) and registers the GRO
// dynamic field.  Returns false if the EAL could not start.
bool InitDpdk();
// 16K mbufs of 2 KB data room.
rte_mempool* TestPool();
// A small pool of indirect-capable mbufs (no data room) for Segment().
rte_mempool* IndirectPool();

// Collects engine output in a vector.
struct Collector {
  std::vector<rte_mbuf*> pkts;
  rte_mbuf* buf[8];
  Output out{buf, 0, 8, &Collector::Drain, this};
  static void Drain(Output* o, void* arg) {
    auto* c = static_cast<Collector*>(arg);
    c->pkts.insert(c->pkts.end(), o->pkts, o->pkts + o->count);
    o->count = 0;
  }
  // Moves everything still buffered into pkts and returns it.
  std::vector<rte_mbuf*>& Take() {
    Drain(&out, this);
    return pkts;
  }
};

class MbufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitDpdk());
    pool_ = TestPool();
    in_use_ = rte_mempool_in_use_count(pool_);
    ind_in_use_ = rte_mempool_in_use_count(IndirectPool());
  }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_) << "mbuf leak";
    EXPECT_EQ(rte_mempool_in_use_count(IndirectPool()), ind_in_use_)
        << "indirect mbuf leak";
  }
  rte_mempool* pool_ = nullptr;
  unsigned in_use_ = 0, ind_in_use_ = 0;
};

}  // namespace grod::gro::testing

#endif  // GROD_DATAPLANE_TESTING_DPDK_ENV_H_
