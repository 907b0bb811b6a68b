// The TX half of a worker: routes each packet to its ingress port's peer,
// batches per port, retries on back-pressure and counts what it must drop.
// Never leaks an mbuf: whatever is handed to Send() is transmitted or freed.
#ifndef GROD_DATAPLANE_RUNTIME_EGRESS_H_
#define GROD_DATAPLANE_RUNTIME_EGRESS_H_

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "dataplane/runtime/lcore_counters.h"

namespace grod::dataplane {

class Egress {
 public:
  static constexpr uint16_t kBatch = 64;
  static constexpr int kTxRetries = 4;

  // peer_of[p] = TX port for packets received on p; counters are indexed by
  // port id and owned by this lcore.
  Egress(uint16_t tx_queue, const uint16_t* peer_of,
         PortLcoreCounters* counters)
      : tx_queue_(tx_queue), peer_of_(peer_of), counters_(counters) {}

  void Send(rte_mbuf* m) {
    const uint16_t out = peer_of_[m->port];
    Pending& p = pending_[out];
    p.pkts[p.count++] = m;
    if (p.count == kBatch) Transmit(out);
  }

  // Transmits everything queued on every port.
  void FlushAll();

 private:
  struct Pending {
    uint16_t count = 0;
    rte_mbuf* pkts[kBatch];
  };
  void Transmit(uint16_t port);

  const uint16_t tx_queue_;
  const uint16_t* const peer_of_;
  PortLcoreCounters* const counters_;
  std::array<Pending, RTE_MAX_ETHPORTS> pending_{};
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_EGRESS_H_
