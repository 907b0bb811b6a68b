// Per-lcore, per-port counters: written only by the owning worker lcore with
// plain stores (no atomics, no locks on the fast path), read by the control
// side with relaxed atomic loads. 64-bit aligned stores cannot tear on the
// 64-bit targets DPDK supports, so a reader sees each value whole.
#ifndef GROD_DATAPLANE_RUNTIME_LCORE_COUNTERS_H_
#define GROD_DATAPLANE_RUNTIME_LCORE_COUNTERS_H_

#include <rte_common.h>

#include <cstdint>

#include "dataplane/runtime/tx_drop.h"

namespace grod::dataplane {

struct alignas(RTE_CACHE_LINE_SIZE) PortLcoreCounters {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_dropped = 0;  // sum of tx_drops
  uint64_t gso_segments = 0;
  uint64_t ip_fragments = 0;  // IPv4 fragments egress made (MTU)
  uint64_t tx_drops[kTxDropReasonCount] = {};
};

struct alignas(RTE_CACHE_LINE_SIZE) WorkerLoadCounters {
  uint64_t busy_cycles = 0;   // TSC spent in polls that returned packets
  uint64_t total_cycles = 0;  // TSC spent in all polls
  // Loop iterations that found the RX pool below the pressure threshold,
  // and the held flows they flushed (largest holders first).
  uint64_t pressure_iterations = 0;
  uint64_t pressure_flushed_flows = 0;
};

// Reader side: one whole 64-bit value written by another lcore.
inline uint64_t ReadCounter(const uint64_t& c) {
  return __atomic_load_n(&c, __ATOMIC_RELAXED);
}

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_LCORE_COUNTERS_H_
