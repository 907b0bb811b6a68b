// How many mbufs a pool has left, cheaply enough to ask once per worker
// loop iteration. rte_mempool_avail_count() walks every lcore's cache
// (RTE_MAX_LCORE cache lines); for a ring-backed pool -- DPDK's default
// mbuf pool ops -- the common ring's count is two loads. It leaves out what
// sits in the per-lcore caches (at most 1.5 x the cache size each), so it
// errs on the side of reporting pressure early.
#ifndef GROD_DATAPLANE_RUNTIME_POOL_GAUGE_H_
#define GROD_DATAPLANE_RUNTIME_POOL_GAUGE_H_

#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstring>

namespace grod::dataplane {

class PoolGauge {
 public:
  explicit PoolGauge(const rte_mempool* pool) : pool_(pool) {
    if (pool != nullptr &&
        std::strncmp(rte_mempool_get_ops(pool->ops_index)->name, "ring_", 5) ==
            0) {
      ring_ = static_cast<const rte_ring*>(pool->pool_data);
    }
  }

  // Free mbufs (a lower bound for ring-backed pools); no pool: "plenty".
  unsigned Free() const {
    if (ring_ != nullptr) return rte_ring_count(ring_);
    return pool_ != nullptr ? rte_mempool_avail_count(pool_) : ~0u;
  }

 private:
  const rte_mempool* pool_;
  const rte_ring* ring_ = nullptr;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_POOL_GAUGE_H_
