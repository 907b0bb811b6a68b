#include "dataplane/runtime/vnet_header.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include <cstring>

namespace grod::dataplane {
namespace {

uint16_t Be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

constexpr uint8_t kTcpCwr = 0x80;
constexpr uint32_t kTcpChecksumAt = 16, kUdpChecksumAt = 6;

// The folded (not inverted) pseudo-header sum of a TCP/UDP packet of
// l4_len bytes: what a CHECKSUM_PARTIAL (or, with l4_len 0, a TSO) L4
// checksum field holds.
uint16_t PseudoHeader(const uint8_t* ip, bool v6, uint8_t proto,
                      uint32_t l4_len) {
  uint32_t sum = v6 ? rte_raw_cksum(ip + 8, 32) : rte_raw_cksum(ip + 12, 8);
  // Length and protocol in network byte order, as 16-bit words.
  const uint8_t tail[8] = {uint8_t(l4_len >> 24),
                           uint8_t(l4_len >> 16),
                           uint8_t(l4_len >> 8),
                           uint8_t(l4_len),
                           0,
                           0,
                           0,
                           proto};
  sum += rte_raw_cksum(tail, sizeof(tail));
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

void SetIpv4Checksum(uint8_t* ip) {
  auto* h = reinterpret_cast<rte_ipv4_hdr*>(ip);
  h->hdr_checksum = 0;
  h->hdr_checksum = rte_ipv4_cksum(h);
}

// Bytes of the Ethernet header with up to two VLAN tags; *type gets the
// EtherType after them (0 if the frame is shorter).
uint32_t EthernetLength(const rte_mbuf* m, uint16_t* type) {
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  uint32_t off = 12;
  *type = 0;
  for (int tags = 0; off + 2 <= m->data_len; ++tags, off += 4) {
    const uint16_t t = Be16(d + off);
    if (tags == 2 || (t != RTE_ETHER_TYPE_VLAN && t != RTE_ETHER_TYPE_QINQ)) {
      *type = t;
      break;
    }
  }
  return off + 2;
}

// L4 bytes (header + payload) by the IP header's own length field, or 0
// if that does not fit the frame.
uint32_t L4Length(const rte_mbuf* m, const uint8_t* ip, bool v6,
                  uint32_t l3_len, uint32_t l4_off) {
  const uint32_t ip_bytes = v6 ? Be16(ip + 4) + 40u : Be16(ip + 2);
  if (ip_bytes <= l3_len) return 0;
  const uint32_t len = ip_bytes - l3_len;
  return l4_off + len <= m->pkt_len ? len : 0;
}

}  // namespace

bool PrepareForKernel(rte_mbuf* m, VnetHeader* h) {
  *h = VnetHeader{};
  const uint64_t fl = m->ol_flags;
  const uint64_t seg = fl & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG);
  const uint64_t l4_req = fl & RTE_MBUF_F_TX_L4_MASK;
  const bool ip_req = fl & RTE_MBUF_F_TX_IP_CKSUM;
  if (seg == 0 && l4_req == 0 && !ip_req &&
      !(fl & (RTE_MBUF_F_TX_OUTER_IP_CKSUM | RTE_MBUF_F_TX_OUTER_UDP_CKSUM))) {
    return true;  // a complete frame: nothing for the kernel to do
  }
  // A tap port offers no tunnel offload: egress completes those.
  if (fl & (RTE_MBUF_F_TX_TUNNEL_MASK | RTE_MBUF_F_TX_OUTER_IP_CKSUM |
            RTE_MBUF_F_TX_OUTER_UDP_CKSUM)) {
    return false;
  }
  const bool v6 = fl & RTE_MBUF_F_TX_IPV6;
  if (v6 == bool(fl & RTE_MBUF_F_TX_IPV4)) return false;  // one of them
  const uint32_t l3 = m->l2_len, l4 = m->l2_len + m->l3_len;
  if (l4 > m->data_len || m->l3_len < (v6 ? 40 : 20)) return false;
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  if (ip_req && v6) return false;
  if (seg == 0 && l4_req == 0) {
    SetIpv4Checksum(d + l3);
    return true;
  }
  const bool tcp =
      seg ? seg == RTE_MBUF_F_TX_TCP_SEG : l4_req == RTE_MBUF_F_TX_TCP_CKSUM;
  if (!seg && !tcp && l4_req != RTE_MBUF_F_TX_UDP_CKSUM) return false;  // SCTP
  if (seg == (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) return false;
  const uint32_t l4_min = tcp ? 20 : 8;
  if (l4 + l4_min > m->data_len) return false;
  const uint32_t l4_bytes = L4Length(m, d + l3, v6, m->l3_len, l4);
  if (l4_bytes < l4_min) return false;
  if (seg) {
    const uint32_t l4_hdr = tcp ? (d[l4 + 12] >> 4) * 4u : 8u;
    if (m->tso_segsz == 0 || m->l4_len != l4_hdr || l4 + l4_hdr > m->data_len) {
      return false;
    }
    h->gso_size = m->tso_segsz;
    h->hdr_len = l4 + l4_hdr;
    h->gso_type = tcp ? (v6 ? kVnetGsoTcpv6 : kVnetGsoTcpv4) : kVnetGsoUdpL4;
    // As Linux GRO marks a merged run whose segments carried CWR.
    if (tcp && (d[l4 + 13] & kTcpCwr)) h->gso_type |= kVnetGsoEcn;
  }
  if (ip_req) SetIpv4Checksum(d + l3);
  const uint16_t phdr =
      PseudoHeader(d + l3, v6, tcp ? IPPROTO_TCP : IPPROTO_UDP, l4_bytes);
  const uint32_t at = tcp ? kTcpChecksumAt : kUdpChecksumAt;
  memcpy(d + l4 + at, &phdr, 2);  // raw sums are byte-order neutral
  h->flags = kVnetNeedsCsum;
  h->csum_start = l4;
  h->csum_offset = at;
  return true;
}

bool ApplyFromKernel(const VnetHeader& h, rte_mbuf* m) {
  const uint8_t gso = h.gso_type & ~kVnetGsoEcn;
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  if (gso == kVnetGsoNone) {
    if (h.flags & kVnetNeedsCsum) {
      // CHECKSUM_PARTIAL: the field holds the pseudo-header sum; the sum
      // of everything from csum_start on completes it (skb_checksum_help).
      const uint32_t field = uint32_t{h.csum_start} + h.csum_offset;
      if (h.csum_start >= m->pkt_len || field + 2 > m->data_len) return false;
      uint16_t raw = 0;
      if (rte_raw_cksum_mbuf(m, h.csum_start, m->pkt_len - h.csum_start,
                             &raw) != 0) {
        return false;
      }
      uint16_t c = ~raw;
      if (c == 0) c = 0xffff;  // as Linux (CSUM_MANGLED_0): 0 is "none" in UDP
      memcpy(d + field, &c, 2);
      m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) |
                    RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    } else if (h.flags & kVnetDataValid) {
      m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) |
                    RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    }
    return true;
  }
  // A GSO packet: Linux always sends it checksum-partial.
  if (!(h.flags & kVnetNeedsCsum) || h.gso_size == 0) return false;
  const bool tcp = gso == kVnetGsoTcpv4 || gso == kVnetGsoTcpv6;
  if (!tcp && gso != kVnetGsoUdpL4) return false;  // UFO: never offered
  uint16_t type;
  const uint32_t l2 = EthernetLength(m, &type);
  const bool v6 = type == RTE_ETHER_TYPE_IPV6;
  if (!v6 && type != RTE_ETHER_TYPE_IPV4) return false;
  if ((gso == kVnetGsoTcpv4 && v6) || (gso == kVnetGsoTcpv6 && !v6)) {
    return false;
  }
  if (h.csum_start <= l2 || h.csum_start + 20u > m->data_len) return false;
  const uint32_t l3_len = h.csum_start - l2;
  const uint8_t* ip = d + l2;
  const uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  // No IPv6 extension headers, no IPv4 options beyond the header's IHL.
  if (v6 ? (l3_len != 40 || ip[6] != proto)
         : (l3_len != (ip[0] & 0xfu) * 4u || l3_len < 20 || ip[9] != proto)) {
    return false;
  }
  if (h.csum_offset != (tcp ? kTcpChecksumAt : kUdpChecksumAt)) return false;
  const uint32_t l4 = h.csum_start;
  const uint32_t l4_len = tcp ? (d[l4 + 12] >> 4) * 4u : 8u;
  if (l4_len < (tcp ? 20u : 8u) || l4 + l4_len > m->data_len ||
      L4Length(m, ip, v6, l3_len, l4) < l4_len) {
    return false;
  }
  m->l2_len = l2;
  m->l3_len = l3_len;
  m->l4_len = l4_len;
  m->tso_segsz = h.gso_size;
  m->ol_flags =
      (tcp ? RTE_MBUF_F_TX_TCP_SEG : RTE_MBUF_F_TX_UDP_SEG) |
      (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  // DPDK's TSO/USO contract (what the engine's merged packets carry).
  const uint16_t phdr = PseudoHeader(ip, v6, proto, 0);
  memcpy(d + l4 + (tcp ? kTcpChecksumAt : kUdpChecksumAt), &phdr, 2);
  return true;
}

}  // namespace grod::dataplane
