#include "dataplane/gro/output.h"

#include <netinet/in.h>
#include <rte_ip.h>

#include "dataplane/gro/checksum.h"
#include "dataplane/gro/list.h"

namespace grod::gro {
namespace {

inline void Put16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

uint32_t L3Ptype(bool v6) {
  return v6 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4_EXT_UNKNOWN;
}

uint32_t L4Ptype(const Layout& l) {
  if (l.type == kIpv4Frag) return RTE_PTYPE_L4_FRAG;
  return l.proto == IPPROTO_TCP ? RTE_PTYPE_L4_TCP : RTE_PTYPE_L4_UDP;
}

// Rewrites an IP header's length field so that the datagram ends
// `bytes_after` bytes after `from` (an offset inside the packet).
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

void SetMetadata(rte_mbuf* m, const Layout& l) {
  const uint32_t l4 = l.type == kIpv4Frag ? 0 : l.payload_off - l.l4_off;
  m->l3_len = l.l4_off - l.l3_off;
  m->l4_len = l4;
  if (l.vxlan) {
    m->outer_l2_len = l.outer_l3_off;
    m->outer_l3_len = l.outer_l4_off - l.outer_l3_off;
    m->l2_len = l.l3_off - l.outer_l4_off;
    m->packet_type = RTE_PTYPE_L2_ETHER | L3Ptype(l.outer_is_v6) |
                     RTE_PTYPE_L4_UDP | RTE_PTYPE_TUNNEL_VXLAN |
                     RTE_PTYPE_INNER_L2_ETHER |
                     (l.is_v6 ? RTE_PTYPE_INNER_L3_IPV6
                              : RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN) |
                     (L4Ptype(l) << 16);  // INNER_L4_* = L4_* << 16
  } else {
    m->l2_len = l.l3_off;
    m->packet_type = RTE_PTYPE_L2_ETHER | L3Ptype(l.is_v6) | L4Ptype(l);
  }
}

void FinalizeMerged(const Layout& l, const Run& r) {
  rte_mbuf* m = r.head;
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  const uint32_t end = l.payload_off + r.bytes;  // end of the merged packet
  m->pkt_len = end;
  m->nb_segs = r.nsegs;
  SetMetadata(m, l);
  uint64_t flags = 0;
  if (l.vxlan) {
    SetIpLength(d, l.outer_l3_off, l.outer_is_v6, end);
    uint8_t* udp = d + l.outer_l4_off;
    Put16(udp + 4, end - l.outer_l4_off);
    // Zero outer UDP checksum: allowed for VXLAN over IPv4 and for tunnels
    // over IPv6 (RFC 6935); Segment() computes real ones.
    udp[6] = udp[7] = 0;
    flags |= RTE_MBUF_F_TX_TUNNEL_VXLAN |
             (l.outer_is_v6
                  ? RTE_MBUF_F_TX_OUTER_IPV6
                  : (RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IP_CKSUM));
  }
  if (l.type == kIpv4Frag) {
    // A merged run of fragments is a larger fragment (or, when it spans the
    // whole datagram, the reassembled datagram).
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
    m->ol_flags |= flags;
    return;
  }
  uint8_t* l4 = d + l.l4_off;
  SetIpLength(d, l.l3_off, l.is_v6, end);
  flags |= l.is_v6 ? RTE_MBUF_F_TX_IPV6
                   : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
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
  m->tso_segsz = r.mss;
}

void FinalizeList(const Layout& l, const Run& r) {
  // Only the head (and the last member's link) is touched: members were
  // held long ago and are cold with many flows.  Unlink() copies the head's
  // metadata to each member (all members share the flow's header layout).
  internal::Link(r.tail)->next = nullptr;
  SetMetadata(r.head, l);
  r.head->ol_flags |= internal::g_list_flag;
  internal::Link(r.head)->count = r.segs;
  r.head->tso_segsz = r.mss;
}

}  // namespace grod::gro
