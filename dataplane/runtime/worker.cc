#include "dataplane/runtime/worker.h"

#include <rte_cycles.h>

#include <string>

namespace grod::dataplane {

std::unique_ptr<Worker> Worker::Create(const WorkerSetup& setup) {
  const std::string name = "grod_cmd_" + std::to_string(setup.lcore);
  rte_ring* ring =
      rte_ring_create_elem(name.c_str(), sizeof(WorkerCommand), 1024,
                           SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (ring == nullptr) return nullptr;
  return std::unique_ptr<Worker>(new Worker(setup, ring));
}

Worker::Worker(const WorkerSetup& setup, rte_ring* commands)
    : setup_(setup),
      commands_(commands),
      rx_pool_(setup.rx_pool),
      egress_(setup.tx_queue, setup.ports, port_counters_),
      gro_(setup.vxlan_port, &egress_) {
  for (const auto& [port, queue] : setup.taps) egress_.AttachTap(port, queue);
}

Worker::~Worker() { rte_ring_free(commands_); }

int Worker::Main(void* arg) {
  static_cast<Worker*>(arg)->Run();
  return 0;
}

uint64_t Worker::Post(const WorkerCommand& cmd) {
  // A live worker empties the ring between bursts and the control side
  // waits for each batch, so a full ring (1024) means a stuck worker.
  if (rte_ring_enqueue_elem(commands_, const_cast<WorkerCommand*>(&cmd),
                            sizeof(cmd)) != 0) {
    return 0;
  }
  return ++commands_posted_;
}

void Worker::ExecuteCommands() {
  WorkerCommand cmd;
  while (rte_ring_dequeue_elem(commands_, &cmd, sizeof(cmd)) == 0) {
    if (cmd.kind == WorkerCommand::Kind::kStallForTest) {
      // Acknowledged as it begins, so the test hook can tell the lcore is
      // stuck (TenantManager::StallWorkerForTest waits for this).
      __atomic_store_n(&commands_done_, commands_done_ + 1, __ATOMIC_RELEASE);
      StallForTest(cmd.stall_ms);
      continue;
    }
    if (!gro_.Execute(cmd)) {
      __atomic_store_n(&commands_failed_, commands_failed_ + 1,
                       __ATOMIC_RELAXED);
    }
    // Release: the control side reads the failure count after this.
    __atomic_store_n(&commands_done_, commands_done_ + 1, __ATOMIC_RELEASE);
  }
}

void Worker::StallForTest(uint32_t ms) {
  const uint64_t until = rte_rdtsc() + rte_get_tsc_hz() / 1000 * ms;
  while (rte_rdtsc() < until && !stop_.load(std::memory_order_relaxed)) {
    rte_pause();
  }
}

void Worker::Run() {
  rte_rcu_qsbr* qsbr = setup_.qsbr;
  const unsigned tid = setup_.rcu_thread_id;
  rte_rcu_qsbr_thread_register(qsbr, tid);
  rte_rcu_qsbr_thread_online(qsbr, tid);
  while (!stop_.load(std::memory_order_relaxed)) {
    __atomic_store_n(&heartbeat_, heartbeat_ + 1, __ATOMIC_RELAXED);
    if (!forwarding_.load(std::memory_order_acquire)) {
      ExecuteCommands();
      rte_rcu_qsbr_quiescent(qsbr, tid);
      rte_delay_us_sleep(50);
      continue;
    }
    const uint64_t start = rte_rdtsc();
    ExecuteCommands();
    const ConfigSnapshot* snap =
        setup_.snapshot->load(std::memory_order_acquire);
    gro_.BeginIteration(*snap);
    uint32_t received = 0;
    bool busy = false;
    for (const RxQueueRef& q : setup_.rx) {
      const uint16_t n = PollQueue(q, *snap, start);
      received += n;
      busy |= n == kBurst;
    }
    // A flush that ran out of budget left due flows: poll again at once.
    bool flush_pending = gro_.FlushByPolicy(*snap, start, busy);
    if (rx_pool_.Free() < setup_.pressure_free_mbufs) {
      // Held packets crowd out RX: the largest holders go first.
      const uint32_t flushed = gro_.RelievePressure(GroStage::kFlushBudget);
      load_.pressure_iterations += 1;
      load_.pressure_flushed_flows += flushed;
      flush_pending |= flushed > 0;
    }
    egress_.FlushAll();
    // From here on this lcore holds no pointer into `snap`.
    rte_rcu_qsbr_quiescent(qsbr, tid);

    const uint64_t spent = rte_rdtsc() - start;
    load_.total_cycles += spent;
    if (received) {
      load_.busy_cycles += spent;
    } else if (setup_.idle_sleep_us && !flush_pending) {
      // Offline while asleep, so config changes need not wait for us.
      rte_rcu_qsbr_thread_offline(qsbr, tid);
      rte_delay_us_sleep(setup_.idle_sleep_us);
      rte_rcu_qsbr_thread_online(qsbr, tid);
    }
  }
  ExecuteCommands();
  gro_.FlushAll(gro::kFlushExplicit);
  egress_.FlushAll();
  rte_rcu_qsbr_thread_offline(qsbr, tid);
  rte_rcu_qsbr_thread_unregister(qsbr, tid);
}

uint16_t Worker::PollQueue(const RxQueueRef& q, const ConfigSnapshot& snap,
                           uint64_t now) {
  rte_mbuf* pkts[kBurst];
  const uint16_t n = q.tap != nullptr
                         ? q.tap->Receive(pkts, kBurst)
                         : rte_eth_rx_burst(q.port, q.queue, pkts, kBurst);
  if (n == 0) return 0;
  PortLcoreCounters& c = port_counters_[q.port];
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    bytes += pkts[i]->pkt_len;
    pkts[i]->port = q.port;  // egress routes by ingress port
  }
  c.rx_packets += n;
  c.rx_bytes += bytes;
  gro_.ProcessPortBurst(snap, q.port, pkts, n, bytes, now);
  return n;
}

}  // namespace grod::dataplane
