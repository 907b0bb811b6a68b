#include "dataplane/runtime/egress.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dataplane/runtime/tx_fixup.h"

namespace grod::dataplane {
namespace {

TxDrop DropReasonOf(int err) {
  switch (err) {
    case -ENOMEM:
      return kTxDropNoMbufs;
    case -EMSGSIZE:
      return kTxDropTooBig;
    default:
      return kTxDropUnsendable;
  }
}

}  // namespace

uint16_t MergedWholeMask(const PortCapabilities& caps, uint32_t guest) {
  uint16_t mask = 0;
  for (unsigned kind = 0; kind < 16; ++kind) {
    const bool v6 = kind & 1, udp = kind & 2, vxlan = kind & 4,
               outer_v6 = kind & 8;
    if (outer_v6 && !vxlan) continue;
    // Configured to merge anyway: SendMerged's software GSO segments what
    // the port cannot take whole.
    if (caps.segment_merged_in_software) {
      mask |= 1u << kind;
      continue;
    }
    // As SendMerged: a tunnel needs VXLAN TSO and the outer checksum
    // offload, plain packets TSO or USO; an IPv4 header asks IP_CKSUM.
    bool whole = vxlan ? caps.vxlan_tso && (outer_v6 ? caps.outer_udp_checksum
                                                     : caps.outer_ipv4_checksum)
                       : (udp ? caps.udp_tso : caps.tcp_tso);
    if (!v6 && !caps.ipv4_checksum) whole = false;
    // As GuestTakesTso: plain TCP, with checksum and mergeable buffers.
    if (!vxlan && !udp) {
      const uint8_t need =
          kGuestCsum | kGuestMrgRxbuf | (v6 ? kGuestTso6 : kGuestTso4);
      whole |= (GuestBits(guest) & need) == need;
    }
    if (whole) mask |= 1u << kind;
  }
  return mask;
}

Egress::Egress(uint16_t tx_queue, const Ports& ports,
               PortLcoreCounters* counters)
    : tx_queue_(tx_queue),
      peer_of_(ports.peer_of),
      ports_(ports),
      counters_(counters) {
  RefreshGuests();
  for (uint16_t in = 0; in < RTE_MAX_ETHPORTS; ++in) {
    const uint16_t out = peer_of_[in];
    merged_whole_[in] = MergedWholeMask(ports_.caps[out], guest_[out]);
  }
}

void Egress::SendList(rte_mbuf* head) {
  // Lists may be longer than one chunk (the engine bounds them, but egress
  // must not depend on it): unlinked and sent a chunk at a time.
  rte_mbuf* members[kMaxSplit];
  rte_mbuf* rest = head;
  while (rest != nullptr) {
    const uint16_t n = gro::UnlinkSome(&rest, members, kMaxSplit);
    // Members usually share their ingress port and are plain frames
    // within the MTU: each run of one ingress port goes through
    // SendBurst() -- Send()'s test per member, the port's peer and limit
    // looked up once per run, plain frames queued in one copy (per-member
    // lookups and queueing made LIST ~5% slower, issue #11), order kept.
    uint16_t i = 0;
    while (i < n) {
      const uint16_t in = members[i]->port;
      uint16_t end = i + 1;
      while (end < n && members[end]->port == in) ++end;
      SendBurst(in, members + i, end - i);
      i = end;
    }
  }
}

void Egress::EnqueueRun(rte_mbuf* const* pkts, uint16_t n, uint16_t out) {
  if (n == 0) return;
  Pending& p = pending_[out];
  if (!p.dirty) {
    p.dirty = true;
    dirty_[dirty_count_++] = out;
  }
  while (n > 0) {
    const uint16_t k = std::min<uint16_t>(n, kBatch - p.count);
    memcpy(p.pkts + p.count, pkts, k * sizeof(pkts[0]));
    p.count += k;
    pkts += k;
    n -= k;
    if (p.count == kBatch) Transmit(out);
  }
}

void Egress::SendChecked(rte_mbuf* m, uint16_t out) {
  if (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) {
    SendMerged(m, out);
    return;
  }
  const PortCapabilities& caps = ports_.caps[out];
  // Aggregated upstream (a guest's TSO packet, a NIC's LRO) and too big
  // for the port: cut back into segments like a merged packet.
  if (unlikely((m->ol_flags & RTE_MBUF_F_RX_LRO) && m->tso_segsz != 0) &&
      m->pkt_len > caps.mtu + RTE_ETHER_HDR_LEN &&
      TsoFromAggregated(m, caps.mtu)) {
    SendMerged(m, out);
    return;
  }
  // A VXLAN frame from the engine (a reassembled inner datagram): the
  // inner datagram is what gets fragmented if it must be.
  const bool vxlan = m->ol_flags & RTE_MBUF_F_TX_TUNNEL_VXLAN;
  // Offloads the port does not do are done here (fragmentation below
  // needs complete checksums too).
  if ((m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK) &&
      !CompleteChecksums(m, caps)) {
    Drop(m, out, kTxDropUnsendable);
    return;
  }
  uint16_t type;
  const uint32_t l2 = vxlan ? m->outer_l2_len : L2Length(m, &type);
  if (m->pkt_len > l2 + caps.mtu) {
    SendFragmented(m, out, vxlan);
    return;
  }
  SendWithinLimits(m, out);
}

void Egress::SendWithinLimits(rte_mbuf* m, uint16_t out) {
  const PortCapabilities& caps = ports_.caps[out];
  if (m->nb_segs > 1 &&
      (!caps.multi_segment_tx || m->nb_segs > caps.tx_max_mtu_segments)) {
    // More mbufs than the port gathers for one frame: one copy, in mbufs
    // as large as the pool's (a frame within the MTU usually fits one).
    rte_mbuf* c = rte_pktmbuf_copy(m, ports_.gso_direct_pool, 0, UINT32_MAX);
    if (c == nullptr) {
      Drop(m, out, kTxDropNoMbufs);
      return;
    }
    rte_pktmbuf_free(m);
    if (c->nb_segs > 1 &&
        (!caps.multi_segment_tx || c->nb_segs > caps.tx_max_mtu_segments)) {
      Drop(c, out, kTxDropUnsendable);
      return;
    }
    m = c;
  }
  Enqueue(m, out);
}

void Egress::SendFragmented(rte_mbuf* m, uint16_t out, bool vxlan_inner) {
  rte_mbuf* frags[kMaxSplit];
  const int n =
      FragmentIpv4(m, vxlan_inner, ports_.caps[out].mtu, ports_.gso_direct_pool,
                   ports_.gso_indirect_pool, frags, kMaxSplit);
  if (n < 0) {
    Drop(m, out, DropReasonOf(n));
    return;
  }
  counters_[out].ip_fragments += n;
  for (int i = 0; i < n; ++i) SendWithinLimits(frags[i], out);
}

void Egress::SendMerged(rte_mbuf* m, uint16_t out) {
  if (unlikely(m->tso_segsz == 0)) {
    // TSO flags without a segment size: no port or GSO can cut it (and its
    // L4 checksum field holds only the pseudo-header sum).
    Drop(m, out, kTxDropUnsendable);
    return;
  }
  const PortCapabilities& caps = ports_.caps[out];
  const uint64_t fl = m->ol_flags;
  const bool tunnel = fl & RTE_MBUF_F_TX_TUNNEL_MASK;
  const bool udp = fl & RTE_MBUF_F_TX_UDP_SEG;
  // The NIC rewrites every header per segment: the outer ones of a tunnel
  // need their checksum offloads (an outer IPv6 UDP checksum is kept, not
  // zeroed), an inner IPv4 header its checksum offload.
  bool hw = tunnel ? caps.vxlan_tso && ((fl & RTE_MBUF_F_TX_OUTER_IPV6)
                                            ? caps.outer_udp_checksum
                                            : caps.outer_ipv4_checksum)
                   : (udp ? caps.udp_tso : caps.tcp_tso);
  if ((fl & RTE_MBUF_F_TX_IP_CKSUM) && !caps.ipv4_checksum) hw = false;
  const uint32_t l2 = tunnel ? m->outer_l2_len : m->l2_len;
  const uint32_t header = (tunnel ? m->outer_l3_len + m->l2_len : 0) +
                          m->l3_len + m->l4_len;  // from the (outer) IP on
  // Within what the port takes (tso_max_bytes: BIG TCP only if configured)
  // and what the PMD accepts: segment size, mbufs per packet and per
  // segment on the wire, each segment within the MTU.
  hw = hw && m->pkt_len - l2 <= caps.tso_max_bytes &&
       m->tso_segsz >= caps.tso_min_segsz &&
       header + m->tso_segsz <= caps.mtu &&
       (m->nb_segs == 1 ||
        (caps.multi_segment_tx && m->nb_segs <= caps.tx_max_segments)) &&
       (m->nb_segs <= caps.tx_max_mtu_segments ||
        MaxMbufsPerTsoSegment(m, l2 + header, m->tso_segsz) <=
            caps.tx_max_mtu_segments);
  if (hw || GuestTakesTso(m, out, header)) {
    // The NIC cuts it back into tso_segsz segments; a guest's vhost-user
    // port hands it over whole with a virtio-net header saying how.
    Enqueue(m, out);
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
    Drop(m, out, DropReasonOf(n));
    return;
  }
  counters_[out].gso_segments += n;
  for (int i = 0; i < n; ++i) {
    segs[i]->port = in_port;  // routes like the packet it came from
    Send(segs[i]);            // no TSO flags: checked as any frame
  }
}

bool Egress::GuestTakesTso(const rte_mbuf* m, uint16_t out,
                           uint32_t header) const {
  // The vhost library writes the virtio-net header from the TSO metadata
  // (gso_type TCPV4/TCPV6 by the IPv4 flag, gso_size = tso_segsz,
  // csum_start = l2_len + l3_len): plain TCP only.  No VXLAN (no tunnel
  // GSO in virtio-net as DPDK 22.11 speaks it) and no USO (its vhost
  // announces a UDP_SEG packet as UFO, one datagram, not USO's many).
  const uint64_t fl = m->ol_flags;
  if (fl & (RTE_MBUF_F_TX_TUNNEL_MASK | RTE_MBUF_F_TX_UDP_SEG)) return false;
  // TSO for this IP version, partial checksums (a GSO packet's is always
  // partial) and mergeable RX buffers, so the packet may span as many
  // guest buffers as it needs.  (A guest without them has no 64 KiB
  // buffers to offer, as far as vhost-user negotiation shows.)
  const uint8_t need = kGuestCsum | kGuestMrgRxbuf |
                       ((fl & RTE_MBUF_F_TX_IPV6) ? kGuestTso6 : kGuestTso4);
  const PortCapabilities& caps = ports_.caps[out];
  // Within what its receive ring holds: a larger packet could never be
  // enqueued (the vhost library would refuse it burst after burst).
  return (GuestBits(guest_[out]) & need) == need &&
         m->pkt_len <= GuestMaxBytes(guest_[out]) &&
         m->pkt_len - m->l2_len <= caps.tso_max_bytes &&
         header + m->tso_segsz <= caps.mtu;
}

void Egress::RefreshGuests() {
  const GuestOffloadTable* t = ports_.guests;
  if (t == nullptr) return;
  for (uint16_t i = 0; i < t->count; ++i) {
    const uint16_t p = t->ports[i];
    const uint32_t state = t->state[p].load(std::memory_order_acquire);
    if (likely(state == guest_[p])) continue;
    guest_[p] = state;
    // A guest attached, left or renegotiated (rare): the ports sending to
    // it merge for it again, or link.  A flow held in the other mode is
    // emitted before its next packet is taken (the engine's mode
    // mismatch), so it stays in order.
    const uint16_t mask = MergedWholeMask(ports_.caps[p], state);
    for (uint16_t in = 0; in < RTE_MAX_ETHPORTS; ++in) {
      if (peer_of_[in] == p) merged_whole_[in] = mask;
    }
  }
}

void Egress::FlushAll() {
  for (uint16_t i = 0; i < dirty_count_; ++i) {
    Pending& p = pending_[dirty_[i]];
    if (p.count) Transmit(dirty_[i]);
    p.dirty = false;
  }
  dirty_count_ = 0;
  RefreshGuests();
}

void Egress::Transmit(uint16_t port) {
  Pending& p = pending_[port];
  if (TapQueue* tap = taps_[port]; tap != nullptr) {
    TransmitTap(port, tap);  // one branch per batch, not per packet
    return;
  }
  // The PMD's own checks and fix-ups (a no-op for PMDs without them); a
  // packet it refuses is dropped and the rest prepared again.
  uint16_t count = p.count;
  uint16_t ready = rte_eth_tx_prepare(port, tx_queue_, p.pkts, count);
  while (unlikely(ready < count)) {
    Drop(p.pkts[ready], port, kTxDropPrepare);
    memmove(p.pkts + ready, p.pkts + ready + 1,
            (count - ready - 1) * sizeof(p.pkts[0]));
    --count;
    ready += rte_eth_tx_prepare(port, tx_queue_, p.pkts + ready, count - ready);
  }

  uint64_t bytes = 0;
  for (uint16_t i = 0; i < count; ++i) bytes += p.pkts[i]->pkt_len;
  uint16_t sent = 0;
  // A full TX ring usually drains within a few polls; past that, dropping
  // is better than stalling RX for every other port and flow.
  for (int attempt = 0; attempt < kTxRetries && sent < count; ++attempt) {
    sent += rte_eth_tx_burst(port, tx_queue_, p.pkts + sent, count - sent);
  }
  for (uint16_t i = sent; i < count; ++i) {
    bytes -= p.pkts[i]->pkt_len;
    rte_pktmbuf_free(p.pkts[i]);
  }
  PortLcoreCounters& c = counters_[port];
  c.tx_packets += sent;
  c.tx_bytes += bytes;
  // (Only when it happened: the reasons live on another cache line.)
  if (unlikely(sent < count)) Count(port, kTxDropRingFull, count - sent);
  p.count = 0;
}

void Egress::TransmitTap(uint16_t port, TapQueue* tap) {
  Pending& p = pending_[port];
  PortLcoreCounters& c = counters_[port];
  // The kernel copies each frame during writev(): every mbuf is freed
  // right after, sent or dropped (and counted).
  for (uint16_t i = 0; i < p.count; ++i) {
    rte_mbuf* m = p.pkts[i];
    TxDrop why;
    if (tap->Transmit(m, &why)) {
      c.tx_packets += 1;
      c.tx_bytes += m->pkt_len;
    } else {
      Count(port, why, 1);
    }
    rte_pktmbuf_free(m);
  }
  p.count = 0;
}

}  // namespace grod::dataplane
