// A worker lcore's poll loop: RX bursts from its queues, the GRO stage,
// then egress to each port's peer. Between bursts it executes commands from
// the control side and reports an RCU quiescent state, so config snapshots
// can be swapped under it without locks. Runs until Stop().
//
// Once per loop iteration it also bumps a heartbeat (a liveness monitor on
// the main lcore notices a worker that stops polling) and checks how many
// mbufs its RX pool has left: below the pressure threshold it flushes the
// largest GRO holders first, so held packets cannot starve RX.
#ifndef GROD_DATAPLANE_RUNTIME_WORKER_H_
#define GROD_DATAPLANE_RUNTIME_WORKER_H_

#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/runtime/pool_gauge.h"
#include "dataplane/runtime/vnet_tap.h"
#include "dataplane/runtime/worker_handle.h"
#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane {

struct RxQueueRef {
  uint16_t port;
  uint16_t queue;
  TapQueue* tap = nullptr;  // a tap port's queue of this lcore (not ethdev)
};

struct WorkerSetup {
  unsigned lcore = 0;
  unsigned rcu_thread_id = 0;  // index among workers
  std::vector<RxQueueRef> rx;  // queues this lcore polls
  uint16_t tx_queue = 0;       // its own TX queue on every port
  Egress::Ports ports;
  // Tap ports and this lcore's queue of each (egress writes to it).
  std::vector<std::pair<uint16_t, TapQueue*>> taps;
  uint16_t vxlan_port = 4789;
  uint32_t idle_sleep_us = 0;
  rte_rcu_qsbr* qsbr = nullptr;
  const std::atomic<const ConfigSnapshot*>* snapshot = nullptr;
  // The pool RX allocates from; below `pressure_free_mbufs` free mbufs the
  // worker flushes the largest GRO holders (null: never).
  const rte_mempool* rx_pool = nullptr;
  unsigned pressure_free_mbufs = 0;
};

class Worker final : public WorkerHandle {
 public:
  static constexpr uint16_t kBurst = 32;

  // Fails (returns nullptr) only if the command ring cannot be allocated.
  static std::unique_ptr<Worker> Create(const WorkerSetup& setup);
  ~Worker() override;

  // The lcore entry point (rte_eal_remote_launch); arg is the Worker.
  static int Main(void* arg);
  void Stop() { stop_.store(true, std::memory_order_relaxed); }
  // Until called, the worker executes commands but polls no RX queue, so
  // configuration can be applied before the first packet is forwarded.
  void StartForwarding() { forwarding_.store(true, std::memory_order_release); }

  // Control side (one thread at a time): queues a copy of `cmd` and
  // returns the sequence number commands_done() reaches once it ran, or 0
  // if the ring is full (the worker stopped taking commands).
  uint64_t Post(const WorkerCommand& cmd) override;
  uint64_t commands_done() const override {
    return ReadCounter(commands_done_);
  }
  uint64_t commands_failed() const override {
    return ReadCounter(commands_failed_);
  }

  // Liveness: bumped once per loop iteration, whether forwarding or not.
  uint64_t heartbeat() const { return ReadCounter(heartbeat_); }
  // Set by the liveness monitor when the heartbeat stopped.
  bool stalled() const override {
    return stalled_.load(std::memory_order_acquire);
  }
  void set_stalled(bool stalled) {
    stalled_.store(stalled, std::memory_order_release);
  }

  unsigned lcore() const override { return setup_.lcore; }
  void AddTenantCounters(uint16_t slot, TenantCounters* out) const override {
    gro_.AddCounters(slot, out);
  }
  void AddUnmatchedCounters(TenantCounters* out) const override {
    out->packets_in += ReadCounter(gro_.unmatched_packets());
    out->bytes_in += ReadCounter(gro_.unmatched_bytes());
  }
  const PortLcoreCounters& port_counters(uint16_t port) const {
    return port_counters_[port];
  }
  const WorkerLoadCounters& load() const { return load_; }
  const GroStage& gro() const { return gro_; }

 private:
  Worker(const WorkerSetup& setup, rte_ring* commands);
  void Run();
  void ExecuteCommands();
  // kStallForTest: spin without heartbeat or quiescent state.
  void StallForTest(uint32_t ms);
  // Returns the number of packets received.
  uint16_t PollQueue(const RxQueueRef& q, const ConfigSnapshot& snap,
                     uint64_t now);

  const WorkerSetup setup_;
  rte_ring* const commands_;      // of WorkerCommand elements (copies)
  uint64_t commands_posted_ = 0;  // control side only
  uint64_t commands_done_ = 0;    // written by the worker
  uint64_t commands_failed_ = 0;  // written by the worker
  uint64_t heartbeat_ = 0;        // written by the worker
  std::atomic<bool> stalled_{false};
  const PoolGauge rx_pool_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> forwarding_{false};
  PortLcoreCounters port_counters_[RTE_MAX_ETHPORTS];
  WorkerLoadCounters load_;
  Egress egress_;
  GroStage gro_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_WORKER_H_
