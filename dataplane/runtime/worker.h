// A worker lcore's poll loop: RX bursts from its queues, the GRO stage,
// then egress to each port's peer. Between bursts it executes commands from
// the control side and reports an RCU quiescent state, so config snapshots
// can be swapped under it without locks. Runs until Stop().
#ifndef GROD_DATAPLANE_RUNTIME_WORKER_H_
#define GROD_DATAPLANE_RUNTIME_WORKER_H_

#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane {

struct RxQueueRef {
  uint16_t port;
  uint16_t queue;
};

struct WorkerSetup {
  unsigned lcore = 0;
  unsigned rcu_thread_id = 0;  // index among workers
  std::vector<RxQueueRef> rx;  // queues this lcore polls
  uint16_t tx_queue = 0;       // its own TX queue on every port
  Egress::Ports ports;
  uint16_t vxlan_port = 4789;
  uint32_t idle_sleep_us = 0;
  rte_rcu_qsbr* qsbr = nullptr;
  const std::atomic<const ConfigSnapshot*>* snapshot = nullptr;
};

class Worker {
 public:
  static constexpr uint16_t kBurst = 32;

  // Fails (returns nullptr) only if the command ring cannot be allocated.
  static std::unique_ptr<Worker> Create(const WorkerSetup& setup);
  ~Worker();

  // The lcore entry point (rte_eal_remote_launch); arg is the Worker.
  static int Main(void* arg);
  void Stop() { stop_.store(true, std::memory_order_relaxed); }
  // Until called, the worker executes commands but polls no RX queue, so
  // configuration can be applied before the first packet is forwarded.
  void StartForwarding() { forwarding_.store(true, std::memory_order_release); }

  // Control side: queue a command (the caller keeps `cmd` alive until
  // commands_done() reaches the returned sequence number).
  uint64_t Post(const WorkerCommand* cmd);
  uint64_t commands_done() const { return ReadCounter(commands_done_); }
  uint64_t commands_failed() const { return ReadCounter(commands_failed_); }

  unsigned lcore() const { return setup_.lcore; }
  const PortLcoreCounters& port_counters(uint16_t port) const {
    return port_counters_[port];
  }
  const WorkerLoadCounters& load() const { return load_; }
  const GroStage& gro() const { return gro_; }

 private:
  Worker(const WorkerSetup& setup, rte_ring* commands);
  void Run();
  void ExecuteCommands();
  // Returns the number of packets received.
  uint16_t PollQueue(const RxQueueRef& q, const ConfigSnapshot& snap,
                     uint64_t now);

  const WorkerSetup setup_;
  rte_ring* const commands_;
  uint64_t commands_posted_ = 0;  // control side only
  uint64_t commands_done_ = 0;    // written by the worker
  uint64_t commands_failed_ = 0;  // written by the worker
  std::atomic<bool> stop_{false};
  std::atomic<bool> forwarding_{false};
  PortLcoreCounters port_counters_[RTE_MAX_ETHPORTS];
  WorkerLoadCounters load_;
  Egress egress_;
  GroStage gro_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_WORKER_H_
