#include "dataplane/runtime/egress.h"

namespace grod::dataplane {

void Egress::SendList(rte_mbuf* head) {
  rte_mbuf* members[kMaxSplit];
  // A list never exceeds max_segments (<= 64) members; Unlink writes them
  // all in their original order.
  const uint16_t n = gro::Unlink(head, members, kMaxSplit);
  for (uint16_t i = 0; i < n; ++i) Send(members[i]);
}

void Egress::SendMerged(rte_mbuf* m) {
  const uint16_t out_port = peer_of_[m->port];
  const PortCapabilities& caps = ports_.caps[out_port];
  const bool tunnel = m->ol_flags & RTE_MBUF_F_TX_TUNNEL_MASK;
  const bool udp = m->ol_flags & RTE_MBUF_F_TX_UDP_SEG;
  const bool hw = tunnel ? caps.vxlan_tso : (udp ? caps.udp_tso : caps.tcp_tso);
  // BIG TCP packets (past 64 KiB) only to a NIC configured to take them.
  const uint32_t size = m->pkt_len - (tunnel ? m->outer_l2_len : m->l2_len);
  if (hw && caps.multi_segment_tx && size <= caps.tso_max_bytes) {
    Send(m);  // the NIC cuts it back into tso_segsz segments
    return;
  }
  rte_mbuf* segs[kMaxSplit];
  const uint16_t in_port = m->port;
  // Segments whose L4 checksum the port computes skip the payload read.
  const uint64_t csum = (caps.tcp_checksum ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : 0) |
                        (caps.udp_checksum ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0);
  const int n = gro::Segment(m, ports_.gso_direct_pool,
                             ports_.gso_indirect_pool, segs, kMaxSplit, csum);
  if (n < 0) {
    // Out of mbufs for the segments: nothing better to do than drop it.
    counters_[out_port].tx_dropped += 1;
    gro::FreePacket(m);
    return;
  }
  counters_[out_port].gso_segments += n;
  for (int i = 0; i < n; ++i) {
    segs[i]->port = in_port;  // routes like the packet it came from
    Send(segs[i]);
  }
}

void Egress::FlushAll() {
  for (uint16_t i = 0; i < dirty_count_; ++i) {
    Pending& p = pending_[dirty_[i]];
    if (p.count) Transmit(dirty_[i]);
    p.dirty = false;
  }
  dirty_count_ = 0;
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
