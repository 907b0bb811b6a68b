// The TX half of a worker: routes each packet to its ingress port's peer,
// turns GRO output back into wire packets (unlinks LIST output; MERGE output
// goes to hardware TSO/USO when the TX port takes it within its limits, or
// whole to a vhost-user guest that negotiated TSO, else software GSO), makes
// every frame one its port can send (MTU, mbufs per packet, only offloads the
// port enabled -- the rest in software), batches per port, runs the PMD's
// tx_prepare, retries on back-pressure. Never leaks an mbuf: whatever is handed
// to Send() is transmitted, or freed and counted under a TxDrop reason.
#ifndef GROD_DATAPLANE_RUNTIME_EGRESS_H_
#define GROD_DATAPLANE_RUNTIME_EGRESS_H_

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "common/dataplane_types.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/guest_offloads.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/runtime/tx_drop.h"
#include "dataplane/runtime/vnet_tap.h"

namespace grod::dataplane {

class Egress {
 public:
  static constexpr uint16_t kBatch = 64;
  static constexpr int kTxRetries = 4;

  // Packets handled at once: list members unlinked per chunk, the
  // segments of one software-GSO'd packet, the fragments of one datagram.
  static constexpr uint16_t kMaxSplit = 256;

  struct Ports {
    const uint16_t* peer_of;         // [port] -> TX port
    const PortCapabilities* caps;    // [port] -> TX offloads and limits
    rte_mempool* gso_direct_pool;    // headers of GSO segments / fragments
    rte_mempool* gso_indirect_pool;  // zero-copy payload references
    // What vhost-user guests negotiated (null: no vhost-user port).
    const GuestOffloadTable* guests = nullptr;
  };

  // Counters are indexed by port id and owned by this lcore.  The ports'
  // capabilities are read here (they are fixed while workers run); what
  // the vhost-user guests negotiated, at every FlushAll().
  Egress(uint16_t tx_queue, const Ports& ports, PortLcoreCounters* counters);

  // Whether a packet received on `in_port` and parsed as `p` would, merged,
  // leave whole -- through the TX port's TSO/USO, to a vhost-user guest that
  // negotiated TSO, or as a GSO packet to a tap -- rather than be cut back
  // into its original segments by software GSO.  When not, MERGE gains
  // nothing over LIST and costs two payload reads (checksum verification,
  // then GSO's checksums): GroStage links such packets instead.  IPv4
  // fragments always: a reassembled datagram needs no offload.  Per port
  // and kind, as of the last FlushAll(); no per-packet port lookup.
  bool TakesMergedWhole(uint16_t in_port, const gro::ParsedPacket& p) const {
    if (p.type == gro::kIpv4Frag) return true;
    const unsigned kind =
        (p.is_v6 ? 1u : 0u) | ((p.type & (gro::kUdp4 | gro::kUdp6)) ? 2u : 0u) |
        (p.has_vni ? 4u : 0u) | (p.has_vni && p.outer_is_v6 ? 8u : 0u);
    return (merged_whole_[in_port] >> kind) & 1;
  }

  // A packet as the GRO engine emitted it: plain, merged or a list.
  void SendGro(rte_mbuf* m) {
    if (gro::IsList(m)) {
      SendList(m);
    } else {
      Send(m);
    }
  }

  // A packet that is not a list (a merged one may carry TSO/USO flags).
  void Send(rte_mbuf* m) {
    const uint16_t out = peer_of_[m->port];
    // The common frame asks nothing of the port: one mbuf, no offload, and
    // within the MTU even untagged.  Anything else is checked in full.
    if (unlikely(!IsPlainFrame(m, ports_.caps[out].mtu + RTE_ETHER_HDR_LEN))) {
      SendChecked(m, out);
      return;
    }
    Enqueue(m, out);
  }

  // Send() for n packets (none a list) that all arrived on `in_port`:
  // the peer and its limit looked up once, runs of plain frames queued in
  // one copy, the others checked in full, order kept.
  void SendBurst(uint16_t in_port, rte_mbuf* const* pkts, uint16_t n) {
    const uint16_t out = peer_of_[in_port];
    const uint32_t limit = ports_.caps[out].mtu + RTE_ETHER_HDR_LEN;
    uint16_t i = 0;
    while (i < n) {
      uint16_t end = i;
      while (end < n && IsPlainFrame(pkts[end], limit)) ++end;
      EnqueueRun(pkts + i, end - i, out);
      if (end < n) SendChecked(pkts[end++], out);
      i = end;
    }
  }

  // Transmits everything queued on every port, then reads what the
  // vhost-user guests negotiated (for the next iteration's packets).
  void FlushAll();

  // Port `port` is a tap (not an ethdev): this lcore writes its frames to
  // queue `q` (one writev per frame) instead of a TX ring.
  void AttachTap(uint16_t port, TapQueue* q) { taps_[port] = q; }

 private:
  struct Pending {
    uint16_t count = 0;
    bool dirty = false;  // listed in dirty_ until the next FlushAll
    rte_mbuf* pkts[kBatch];
  };

  void Enqueue(rte_mbuf* m, uint16_t out) {
    Pending& p = pending_[out];
    if (!p.dirty) {
      p.dirty = true;
      dirty_[dirty_count_++] = out;
    }
    p.pkts[p.count++] = m;
    if (p.count == kBatch) Transmit(out);
  }

  // What Send() lets through unchecked (`limit`: the TX port's MTU plus
  // an untagged Ethernet header).
  static bool IsPlainFrame(const rte_mbuf* m, uint32_t limit) {
    return (m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK) == 0 && m->nb_segs == 1 &&
           m->pkt_len <= limit;
  }
  // Enqueue() for n frames to `out` (all plain), in order.
  void EnqueueRun(rte_mbuf* const* pkts, uint16_t n, uint16_t out);

  void Transmit(uint16_t port);
  void TransmitTap(uint16_t port, TapQueue* tap);
  void SendList(rte_mbuf* head);
  // The slow path of Send(): offloads, MTU, mbufs per packet.
  void SendChecked(rte_mbuf* m, uint16_t out);
  void SendMerged(rte_mbuf* m, uint16_t out);
  // Whether the guest behind vhost-user port `out` takes merged packet `m`
  // whole (`header`: its bytes from the IP header to the payload).
  bool GuestTakesTso(const rte_mbuf* m, uint16_t out, uint32_t header) const;
  // Reads what the guests negotiated; where that changed, recomputes
  // merged_whole_ for the ports that send to them.
  void RefreshGuests();
  // A frame that needs no offload the port lacks and fits its MTU: copied
  // into one mbuf if the port cannot take its chain, then queued.
  void SendWithinLimits(rte_mbuf* m, uint16_t out);
  // A frame above the MTU: fragmented if IPv4 allows it, else dropped.
  void SendFragmented(rte_mbuf* m, uint16_t out, bool vxlan_inner);
  // Frees a packet (or a whole list) and counts it against `port`.
  void Drop(rte_mbuf* m, uint16_t port, TxDrop why) {
    gro::FreePacket(m);
    Count(port, why, 1);
  }
  void Count(uint16_t port, TxDrop why, uint64_t n) {
    counters_[port].tx_dropped += n;
    counters_[port].tx_drops[why] += n;
  }

  const uint16_t tx_queue_;
  const uint16_t* const peer_of_;
  const Ports ports_;
  PortLcoreCounters* const counters_;
  std::array<Pending, RTE_MAX_ETHPORTS> pending_{};
  std::array<TapQueue*, RTE_MAX_ETHPORTS> taps_{};  // null: an ethdev
  // Ports with something pending, so FlushAll touches only those.
  uint16_t dirty_[RTE_MAX_ETHPORTS];
  uint16_t dirty_count_ = 0;
  // GuestState per port, as of the last FlushAll.
  uint32_t guest_[RTE_MAX_ETHPORTS] = {};
  // Per ingress port: bit `kind` (see TakesMergedWhole) set when its peer
  // takes a merged packet of that kind whole (MergedWholeMask).
  uint16_t merged_whole_[RTE_MAX_ETHPORTS] = {};
};

// The kinds of merged packet (bits as in Egress::TakesMergedWhole) a port
// with `caps`, and guest state `guest` if it is vhost-user, takes whole:
// the port-level half of Egress::SendMerged's decision (what varies per
// packet -- size, segment size, mbufs -- stays there, so a packet merged
// for a port that then cannot take it is still cut by software GSO).
// Every kind when caps.segment_merged_in_software: merged, then cut by
// software GSO on purpose.
uint16_t MergedWholeMask(const PortCapabilities& caps, uint32_t guest);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_EGRESS_H_
