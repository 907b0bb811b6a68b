// The TX half of a worker: routes each packet to its ingress port's peer,
// turns GRO output back into wire packets (unlinks LIST output; MERGE output
// goes to hardware TSO/USO when the TX port has it, else software GSO),
// batches per port, retries on back-pressure and counts what it must drop.
// Never leaks an mbuf: whatever is handed to Send() is transmitted or freed.
#ifndef GROD_DATAPLANE_RUNTIME_EGRESS_H_
#define GROD_DATAPLANE_RUNTIME_EGRESS_H_

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "common/dataplane_types.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/lcore_counters.h"

namespace grod::dataplane {

class Egress {
 public:
  static constexpr uint16_t kBatch = 64;
  static constexpr int kTxRetries = 4;

  // Segments of one MERGE output or members of one LIST: at most
  // max_segments (64), doubled for GSO of odd-sized tails.
  static constexpr uint16_t kMaxSplit = 128;

  struct Ports {
    const uint16_t* peer_of;         // [port] -> TX port
    const PortCapabilities* caps;    // [port] -> TX offloads
    rte_mempool* gso_direct_pool;    // headers of software GSO segments
    rte_mempool* gso_indirect_pool;  // zero-copy payload references
  };

  // Counters are indexed by port id and owned by this lcore.
  Egress(uint16_t tx_queue, const Ports& ports, PortLcoreCounters* counters)
      : tx_queue_(tx_queue),
        peer_of_(ports.peer_of),
        ports_(ports),
        counters_(counters) {}

  // A packet as the GRO engine emitted it: plain, merged or a list.
  void SendGro(rte_mbuf* m) {
    if (gro::IsList(m)) {
      SendList(m);
    } else if (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) {
      SendMerged(m);
    } else {
      Send(m);
    }
  }

  // A wire-ready packet.
  void Send(rte_mbuf* m) {
    const uint16_t out = peer_of_[m->port];
    Pending& p = pending_[out];
    if (!p.dirty) {
      p.dirty = true;
      dirty_[dirty_count_++] = out;
    }
    p.pkts[p.count++] = m;
    if (p.count == kBatch) Transmit(out);
  }

  // Transmits everything queued on every port.
  void FlushAll();

 private:
  struct Pending {
    uint16_t count = 0;
    bool dirty = false;  // listed in dirty_ until the next FlushAll
    rte_mbuf* pkts[kBatch];
  };
  void Transmit(uint16_t port);
  void SendList(rte_mbuf* head);
  void SendMerged(rte_mbuf* m);

  const uint16_t tx_queue_;
  const uint16_t* const peer_of_;
  const Ports ports_;
  PortLcoreCounters* const counters_;
  std::array<Pending, RTE_MAX_ETHPORTS> pending_{};
  // Ports with something pending, so FlushAll touches only those.
  uint16_t dirty_[RTE_MAX_ETHPORTS];
  uint16_t dirty_count_ = 0;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_EGRESS_H_
