#include "dataplane/runtime/egress.h"

namespace grod::dataplane {

void Egress::FlushAll() {
  for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; ++port) {
    if (pending_[port].count) Transmit(port);
  }
}

void Egress::Transmit(uint16_t port) {
  Pending& p = pending_[port];
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < p.count; ++i) bytes += p.pkts[i]->pkt_len;

  uint16_t sent = 0;
  // A full TX ring usually drains within a few polls; past that, dropping
  // is better than stalling RX for every other port and flow.
  for (int attempt = 0; attempt < kTxRetries && sent < p.count; ++attempt) {
    sent += rte_eth_tx_burst(port, tx_queue_, p.pkts + sent, p.count - sent);
  }
  PortLcoreCounters& c = counters_[port];
  for (uint16_t i = sent; i < p.count; ++i) {
    bytes -= p.pkts[i]->pkt_len;
    rte_pktmbuf_free(p.pkts[i]);
  }
  c.tx_packets += sent;
  c.tx_bytes += bytes;
  c.tx_dropped += p.count - sent;
  p.count = 0;
}

}  // namespace grod::dataplane
