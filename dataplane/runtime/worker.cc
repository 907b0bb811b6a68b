#include "dataplane/runtime/worker.h"

#include <rte_cycles.h>

namespace grod::dataplane {

Worker::Worker(const WorkerSetup& setup)
    : setup_(setup), egress_(setup.tx_queue, setup.peer_of, port_counters_) {}

int Worker::Main(void* arg) {
  static_cast<Worker*>(arg)->Run();
  return 0;
}

void Worker::Run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    uint32_t received = 0;
    for (const RxQueueRef& q : setup_.rx) received += PollQueue(q);
    egress_.FlushAll();
    const uint64_t spent = rte_rdtsc() - start;
    load_.total_cycles += spent;
    if (received) {
      load_.busy_cycles += spent;
    } else if (setup_.idle_sleep_us) {
      rte_delay_us_sleep(setup_.idle_sleep_us);
    }
  }
  egress_.FlushAll();
}

uint16_t Worker::PollQueue(const RxQueueRef& q) {
  rte_mbuf* pkts[kBurst];
  const uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, kBurst);
  if (n == 0) return 0;
  PortLcoreCounters& c = port_counters_[q.port];
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    bytes += pkts[i]->pkt_len;
    pkts[i]->port = q.port;  // egress routes by ingress port
    egress_.Send(pkts[i]);
  }
  c.rx_packets += n;
  c.rx_bytes += bytes;
  return n;
}

}  // namespace grod::dataplane
