// A worker lcore's poll loop: RX bursts from its queues, the GRO stage,
// then egress to each port's peer. Runs until Stop().
#ifndef GROD_DATAPLANE_RUNTIME_WORKER_H_
#define GROD_DATAPLANE_RUNTIME_WORKER_H_

#include <rte_ethdev.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/lcore_counters.h"

namespace grod::dataplane {

struct RxQueueRef {
  uint16_t port;
  uint16_t queue;
};

struct WorkerSetup {
  unsigned lcore = 0;
  std::vector<RxQueueRef> rx;  // queues this lcore polls
  uint16_t tx_queue = 0;       // its own TX queue on every port
  const uint16_t* peer_of = nullptr;
  uint32_t idle_sleep_us = 0;
};

class Worker {
 public:
  static constexpr uint16_t kBurst = 32;

  explicit Worker(const WorkerSetup& setup);

  // The lcore entry point (rte_eal_remote_launch); arg is the Worker.
  static int Main(void* arg);
  void Stop() { stop_.store(true, std::memory_order_relaxed); }

  unsigned lcore() const { return setup_.lcore; }
  const PortLcoreCounters& port_counters(uint16_t port) const {
    return port_counters_[port];
  }
  const WorkerLoadCounters& load() const { return load_; }

 private:
  void Run();
  // Returns the number of packets received.
  uint16_t PollQueue(const RxQueueRef& q);

  const WorkerSetup setup_;
  std::atomic<bool> stop_{false};
  PortLcoreCounters port_counters_[RTE_MAX_ETHPORTS];
  WorkerLoadCounters load_;
  Egress egress_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_WORKER_H_
