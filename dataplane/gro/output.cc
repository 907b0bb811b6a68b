#include "dataplane/gro/output.h"

#include <netinet/in.h>
#include <rte_ip.h>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/checksum.h"
#include "dataplane/gro/list.h"

namespace grod::gro {
namespace {

uint32_t L3Ptype(bool v6) {
  return v6 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4_EXT_UNKNOWN;
}

uint32_t L4Ptype(const Layout& l) {
  if (l.type == kIpv4Frag) return RTE_PTYPE_L4_FRAG;
  return l.proto == IPPROTO_TCP ? RTE_PTYPE_L4_TCP : RTE_PTYPE_L4_UDP;
}

// Rewrites the length field of the IP header at `l3_off` so that its
// datagram ends at offset `end` of the packet.
void SetIpLength(uint8_t* d, uint32_t l3_off, bool v6, uint32_t end) {
  uint8_t* ip = d + l3_off;
  if (v6) {
    Put16(ip + 4, end - l3_off - 40);
  } else {
    Put16(ip + 2, end - l3_off);
    SetIpv4Checksum(ip);
  }
}

}  // namespace

namespace {

// tx_offload fields the engine sets, as one word (written in one store
// instead of a read-modify-write per bit-field).
struct Meta {
  uint32_t ptype;
  uint64_t txo;   // l2/l3/l4 (and outer) lengths
  uint64_t keep;  // bits of the old tx_offload to keep
};

const uint64_t kTsoMask = rte_mbuf_tx_offload(0, 0, 0, 0xffff, 0, 0, 0);
const uint64_t kOuterMask = rte_mbuf_tx_offload(0, 0, 0, 0, 0x1ff, 0x7f, 0);
const uint64_t kUnusedMask = rte_mbuf_tx_offload(0, 0, 0, 0, 0, 0, 0xff);

inline Meta MetaOf(const Layout& l) {
  const uint64_t l3 = l.l4_off - l.l3_off;
  const uint64_t l4 = l.type == kIpv4Frag ? 0 : l.payload_off - l.l4_off;
  if (l.vxlan) {
    return Meta{
        RTE_PTYPE_L2_ETHER | L3Ptype(l.outer_is_v6) | RTE_PTYPE_L4_UDP |
            RTE_PTYPE_TUNNEL_VXLAN | RTE_PTYPE_INNER_L2_ETHER |
            (l.is_v6 ? RTE_PTYPE_INNER_L3_IPV6
                     : RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN) |
            (L4Ptype(l) << 16),  // INNER_L4_* = L4_* << 16
        rte_mbuf_tx_offload(l.l3_off - l.outer_l4_off, l3, l4, 0,
                            l.outer_l4_off - l.outer_l3_off, l.outer_l3_off, 0),
        kTsoMask | kUnusedMask};
  }
  return Meta{RTE_PTYPE_L2_ETHER | L3Ptype(l.is_v6) | L4Ptype(l),
              rte_mbuf_tx_offload(l.l3_off, l3, l4, 0, 0, 0, 0),
              kTsoMask | kUnusedMask | kOuterMask};
}

}  // namespace

void SetMetadata(rte_mbuf* m, const Layout& l) {
  const Meta meta = MetaOf(l);
  m->tx_offload = (m->tx_offload & meta.keep) | meta.txo;
  m->packet_type = meta.ptype;
}

namespace {

// The steps of FinalizeMerged(), inlined into it (it runs for every merged
// output).

// A VXLAN packet's outer IP and UDP lengths and UDP checksum for a merged
// packet ending at `end`; returns the tunnel's offload flags.
[[gnu::always_inline]] inline uint64_t FinalizeVxlanOuter(const Layout& l,
                                                          uint8_t* d,
                                                          uint32_t end) {
  SetIpLength(d, l.outer_l3_off, l.outer_is_v6, end);
  uint8_t* udp = d + l.outer_l4_off;
  Put16(udp + 4, end - l.outer_l4_off);
  if (l.outer_is_v6) {
    // Over IPv6 the outer UDP checksum is kept (a zero one is only for
    // tunnel endpoints set up to accept it, RFC 6935): requested as an
    // offload, the field holding the pseudo-header sum (without length
    // when segmenting, as TSO's); egress computes it in software when
    // the port cannot (Segment() computes real ones).
    const bool tso = l.type != kIpv4Frag;
    const uint16_t phdr = Fold(PseudoHeaderSum(
        d + l.outer_l3_off, true, IPPROTO_UDP, tso ? 0 : end - l.outer_l4_off));
    memcpy(udp + 6, &phdr, 2);
    return RTE_MBUF_F_TX_TUNNEL_VXLAN | RTE_MBUF_F_TX_OUTER_IPV6 |
           RTE_MBUF_F_TX_OUTER_UDP_CKSUM;
  }
  // Zero outer UDP checksum: what VXLAN over IPv4 sends (RFC 7348).
  udp[6] = udp[7] = 0;
  return RTE_MBUF_F_TX_TUNNEL_VXLAN | RTE_MBUF_F_TX_OUTER_IPV4 |
         RTE_MBUF_F_TX_OUTER_IP_CKSUM;
}

// A merged run of fragments is a larger fragment (or, when it spans the
// whole datagram, the reassembled datagram): its IP header and, when
// reassembled, the L4 packet type of m.
[[gnu::always_inline]] inline void FinalizeFragment(const Layout& l,
                                                    const Run& r, rte_mbuf* m,
                                                    uint8_t* d, uint32_t end) {
  uint8_t* ip = d + l.l3_off;
  const uint32_t df = ip[6] & 0x40;
  Put16(ip + 6, (df << 8) | (r.last_mf ? 0x2000 : 0) | (r.start / 8));
  SetIpLength(d, l.l3_off, false, end);
  if (r.start == 0 && !r.last_mf) {
    // Reassembled: the L4 header is the one in the first fragment.
    const uint32_t l4 = l.proto == IPPROTO_TCP   ? RTE_PTYPE_L4_TCP
                        : l.proto == IPPROTO_UDP ? RTE_PTYPE_L4_UDP
                                                 : RTE_PTYPE_L4_NONFRAG;
    m->packet_type =
        l.vxlan ? (m->packet_type & ~RTE_PTYPE_INNER_L4_MASK) | (l4 << 16)
                : (m->packet_type & ~RTE_PTYPE_L4_MASK) | l4;
  }
}

// The (inner) IP length field of a merged TCP/UDP packet ending at `end`.
// BIG TCP (see ContextConfig::max_merged_bytes): a length the 16-bit
// field cannot hold is written as 0; pkt_len carries it.
[[gnu::always_inline]] inline void SetMergedIpLength(const Layout& l,
                                                     uint8_t* d, uint32_t end) {
  const auto field = [](uint32_t len) { return len > 65535 ? 0 : len; };
  if (l.is_v6) {
    Put16(d + l.l3_off + 4, field(end - l.l3_off - 40));
    return;
  }
  // Only the total length changes: update the header checksum for it
  // (RFC 1624 eqn. 3, as Linux GRO does) instead of summing the header
  // again -- and a header that arrived with a bad checksum keeps one.
  uint8_t* ip = d + l.l3_off;
  const uint32_t old_len = uint32_t(ip[2]) << 8 | ip[3];
  const uint32_t new_len = field(end - l.l3_off);
  uint32_t sum = (~(uint32_t(ip[10]) << 8 | ip[11]) & 0xffff) +
                 (~old_len & 0xffff) + new_len;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  Put16(ip + 2, new_len);
  Put16(ip + 10, ~sum & 0xffff);
}

}  // namespace

void FinalizeMerged(const Layout& l, const Run& r) {
  rte_mbuf* m = r.head;
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  const uint32_t end = l.payload_off + r.bytes;  // end of the merged packet
  m->pkt_len = end;
  m->nb_segs = r.nsegs;
  const Meta meta = MetaOf(l);
  m->packet_type = meta.ptype;
  uint64_t flags = l.vxlan ? FinalizeVxlanOuter(l, d, end) : 0;
  if (l.type == kIpv4Frag) {
    FinalizeFragment(l, r, m, d, end);
    m->tx_offload = (m->tx_offload & meta.keep) | meta.txo;
    m->ol_flags |= flags;
    return;
  }
  SetMergedIpLength(l, d, end);
  flags |= l.is_v6 ? RTE_MBUF_F_TX_IPV6
                   : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  uint8_t* l4 = d + l.l4_off;
  if (l.proto == IPPROTO_TCP) {
    l4[13] |= r.flags;  // PSH/FIN of later segments (at the TCP flags byte)
    flags |= RTE_MBUF_F_TX_TCP_SEG;
  } else {
    Put16(l4 + 4, end - l.l4_off);
    flags |= RTE_MBUF_F_TX_UDP_SEG;
  }
  // TSO/USO contract: the L4 checksum field holds the pseudo-header sum
  // without length; hardware (or Segment()) completes it per segment.
  const uint16_t phdr =
      Fold(PseudoHeaderSum(d + l.l3_off, l.is_v6, l.proto, 0));
  memcpy(l4 + (l.proto == IPPROTO_TCP ? 16 : 6), &phdr, 2);
  m->ol_flags |= flags;
  m->tx_offload = (m->tx_offload & (meta.keep & ~kTsoMask)) | meta.txo |
                  rte_mbuf_tx_offload(0, 0, 0, r.mss, 0, 0, 0);
}

void FinalizeList(const Layout& l, const Run& r) {
  // Only the head (and the last member's link) is touched: members were
  // held long ago and are cold with many flows.  Unlink() copies the head's
  // metadata to each member (all members share the flow's header layout).
  internal::Link(r.tail)->next = nullptr;
  rte_mbuf* m = r.head;
  const Meta meta = MetaOf(l);
  m->packet_type = meta.ptype;
  m->tx_offload = (m->tx_offload & (meta.keep & ~kTsoMask)) | meta.txo |
                  rte_mbuf_tx_offload(0, 0, 0, r.mss, 0, 0, 0);
  m->ol_flags |= internal::g_list_flag;
  internal::Link(m)->count = r.segs;
}

}  // namespace grod::gro
