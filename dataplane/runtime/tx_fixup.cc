#include "dataplane/runtime/tx_fixup.h"

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>

#include <cerrno>
#include <cstring>

namespace grod::dataplane {
namespace {

constexpr uint64_t kL4Request = RTE_MBUF_F_TX_L4_MASK;

inline uint16_t Be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

// Header offsets from the mbuf lengths, in the engine's convention (see
// gro/output.cc MetaOf): for VXLAN, l2_len runs from the outer UDP header
// to the inner IP header.
struct Offsets {
  bool tunnel;
  uint32_t outer_l3, outer_l4, l3, l4;
};

Offsets OffsetsOf(const rte_mbuf* m) {
  Offsets o;
  o.tunnel = m->ol_flags & RTE_MBUF_F_TX_TUNNEL_MASK;
  o.outer_l3 = o.tunnel ? m->outer_l2_len : 0;
  o.outer_l4 = o.outer_l3 + (o.tunnel ? m->outer_l3_len : 0);
  o.l3 = o.tunnel ? o.outer_l4 + m->l2_len : m->l2_len;
  o.l4 = o.l3 + m->l3_len;
  return o;
}

void SetIpv4HeaderChecksum(uint8_t* ip) {
  auto* h = reinterpret_cast<rte_ipv4_hdr*>(ip);
  h->hdr_checksum = 0;
  h->hdr_checksum = rte_ipv4_cksum(h);
}

// Stores the full checksum of the TCP/UDP datagram at l4 (its IP header at
// l3, read for the version and lengths), reading the chain.
bool SetL4Checksum(rte_mbuf* m, uint32_t l3, uint32_t l4, bool udp) {
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t* field = d + l4 + (udp ? 6 : 16);
  field[0] = field[1] = 0;
  uint32_t len;
  uint32_t sum;
  if ((d[l3] >> 4) == 4) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(d + l3);
    len = Be16(d + l3 + 2) - (l4 - l3);
    sum = rte_ipv4_phdr_cksum(ip, 0);
  } else {
    const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(d + l3);
    len = Be16(d + l3 + 4) - (l4 - l3 - 40);
    sum = rte_ipv6_phdr_cksum(ip, 0);
  }
  uint16_t raw;
  if (l4 + len > m->pkt_len || rte_raw_cksum_mbuf(m, l4, len, &raw) != 0) {
    return false;
  }
  sum += raw;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  uint16_t c = ~sum & 0xffff;
  if (udp && c == 0) c = 0xffff;  // 0 means "no checksum" for UDP
  memcpy(field, &c, 2);           // raw sums are byte-order neutral
  return true;
}

}  // namespace

uint32_t L2Length(const rte_mbuf* m, uint16_t* ether_type) {
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  uint32_t off = 12;
  *ether_type = 0;
  for (int tags = 0; off + 2 <= m->data_len; ++tags, off += 4) {
    const uint16_t t = Be16(d + off);
    if (tags == 2 || (t != RTE_ETHER_TYPE_VLAN && t != RTE_ETHER_TYPE_QINQ &&
                      t != RTE_ETHER_TYPE_QINQ1)) {
      *ether_type = t;
      break;
    }
  }
  return off + 2;
}

bool CompleteChecksums(rte_mbuf* m, const PortCapabilities& caps) {
  const uint64_t fl = m->ol_flags;
  const Offsets o = OffsetsOf(m);
  const uint32_t hdr_end = o.l4 + ((fl & kL4Request) ? m->l4_len : 0);
  if (hdr_end > m->data_len || o.l3 >= o.l4) return false;
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  const uint64_t l4_req = fl & kL4Request;
  const bool udp = l4_req == RTE_MBUF_F_TX_UDP_CKSUM;
  if (l4_req != 0 && l4_req != RTE_MBUF_F_TX_TCP_CKSUM && !udp) return false;

  // A tunnel's outer UDP checksum covers the inner packet: computed here,
  // it needs the inner checksums computed here as well.
  const bool outer_udp_sw =
      (fl & RTE_MBUF_F_TX_OUTER_UDP_CKSUM) && !caps.outer_udp_checksum;
  // Inner offloads in a tunnel need a NIC that parses VXLAN.
  const bool inner_hw = !outer_udp_sw && (!o.tunnel || caps.vxlan_tso);
  uint64_t done = 0;
  if ((fl & RTE_MBUF_F_TX_IP_CKSUM) && !(inner_hw && caps.ipv4_checksum)) {
    SetIpv4HeaderChecksum(d + o.l3);
    done |= RTE_MBUF_F_TX_IP_CKSUM;
  }
  if (l4_req != 0 &&
      !(inner_hw && (udp ? caps.udp_checksum : caps.tcp_checksum))) {
    if (!SetL4Checksum(m, o.l3, o.l4, udp)) return false;
    done |= kL4Request;
  }
  if ((fl & RTE_MBUF_F_TX_OUTER_IP_CKSUM) && !caps.outer_ipv4_checksum) {
    SetIpv4HeaderChecksum(d + o.outer_l3);
    done |= RTE_MBUF_F_TX_OUTER_IP_CKSUM;
  }
  if (outer_udp_sw) {
    if (!SetL4Checksum(m, o.outer_l3, o.outer_l4, true)) return false;
    done |= RTE_MBUF_F_TX_OUTER_UDP_CKSUM;
  }
  const uint64_t requests = RTE_MBUF_F_TX_IP_CKSUM | kL4Request |
                            RTE_MBUF_F_TX_OUTER_IP_CKSUM |
                            RTE_MBUF_F_TX_OUTER_UDP_CKSUM;
  m->ol_flags &= ~done;
  // Nothing left for the NIC: no TX flag at all, so no PMD sets up an
  // offload context (or looks for one it was not configured with).
  if ((m->ol_flags & requests) == 0) m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
  return true;
}

bool TsoFromAggregated(rte_mbuf* m, uint32_t mtu) {
  uint16_t type;
  const uint32_t l2 = L2Length(m, &type);
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t l3_len, ip_end;
  bool v6;
  if (type == RTE_ETHER_TYPE_IPV4 && l2 + 20 <= m->data_len) {
    v6 = false;
    l3_len = (d[l2] & 0xf) * 4u;
    if ((d[l2] >> 4) != 4 || l3_len < 20 || d[l2 + 9] != IPPROTO_TCP ||
        (Be16(d + l2 + 6) & 0x3fff) != 0) {  // MF or an offset: a fragment
      return false;
    }
    ip_end = l2 + Be16(d + l2 + 2);
  } else if (type == RTE_ETHER_TYPE_IPV6 && l2 + 40 <= m->data_len) {
    v6 = true;
    l3_len = 40;
    if ((d[l2] >> 4) != 6 || d[l2 + 6] != IPPROTO_TCP) return false;
    ip_end = l2 + 40 + Be16(d + l2 + 4);
  } else {
    return false;
  }
  const uint32_t l4 = l2 + l3_len;
  if (l4 + 20 > m->data_len) return false;
  const uint32_t l4_len = (d[l4 + 12] >> 4) * 4u;
  // Headers in the first mbuf, some payload, the IP length the frame's.
  if (l4_len < 20 || l4 + l4_len > m->data_len || ip_end != m->pkt_len ||
      l4 + l4_len >= m->pkt_len || l3_len + l4_len >= mtu) {
    return false;
  }
  m->l2_len = l2;
  m->l3_len = l3_len;
  m->l4_len = l4_len;
  m->tso_segsz = RTE_MIN(uint32_t{m->tso_segsz}, mtu - l3_len - l4_len);
  m->ol_flags =
      (m->ol_flags & ~RTE_MBUF_F_TX_OFFLOAD_MASK) | RTE_MBUF_F_TX_TCP_SEG |
      (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  const uint16_t ph =
      v6 ? rte_ipv6_phdr_cksum(reinterpret_cast<rte_ipv6_hdr*>(d + l2),
                               m->ol_flags)
         : rte_ipv4_phdr_cksum(reinterpret_cast<rte_ipv4_hdr*>(d + l2),
                               m->ol_flags);
  memcpy(d + l4 + 16, &ph, 2);
  return true;
}

uint32_t MaxMbufsPerTsoSegment(const rte_mbuf* m, uint32_t header_bytes,
                               uint32_t mss) {
  uint32_t worst = 0;
  uint32_t cur = 1;  // the header, gathered for every segment
  uint64_t seg_end = uint64_t{header_bytes} + mss;
  uint64_t off = 0;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    uint64_t a = RTE_MAX(off, uint64_t{header_bytes});
    const uint64_t b = off + s->data_len;
    off = b;
    while (a < b) {
      ++cur;  // this mbuf holds part of the current segment
      if (b < seg_end) break;
      worst = RTE_MAX(worst, cur);  // the current segment is complete
      cur = 1;
      a = seg_end;
      seg_end += mss;
    }
  }
  return RTE_MAX(worst, cur);
}

int FragmentIpv4(rte_mbuf* m, bool vxlan_inner, uint32_t mtu,
                 rte_mempool* direct, rte_mempool* indirect, rte_mbuf** out,
                 uint16_t cap) {
  const bool tunnel = vxlan_inner;
  Offsets o;
  o.outer_l3 = m->outer_l2_len;
  o.outer_l4 = o.outer_l3 + m->outer_l3_len;
  o.l3 = o.outer_l4 + m->l2_len;
  if (!tunnel) {
    uint16_t type = 0;
    o.outer_l3 = o.outer_l4 = 0;
    o.l3 = L2Length(m, &type);
    if (type != RTE_ETHER_TYPE_IPV4) return -EMSGSIZE;
  }
  // Everything in front of the IPv4 header fragmented, copied to each
  // fragment; it must fit the fragments' headroom.
  const uint32_t prefix = o.l3;
  uint8_t head[RTE_PKTMBUF_HEADROOM];
  if (prefix > sizeof(head) || prefix + 20 > m->data_len) return -EINVAL;
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  if ((d[prefix] >> 4) != 4) return -EMSGSIZE;
  if (d[prefix + 6] & 0x40) return -EMSGSIZE;  // DF
  // The fragmented header's own packet may use what the outer headers
  // leave of the MTU.
  const uint32_t overhead = tunnel ? prefix - o.outer_l3 : 0;
  if (mtu <= overhead + 68) return -EINVAL;
  memcpy(head, d, prefix);

  rte_pktmbuf_adj(m, prefix);
  const int n =
      rte_ipv4_fragment_packet(m, out, cap, mtu - overhead, direct, indirect);
  if (n < 0) {
    rte_pktmbuf_prepend(m, prefix);
    return n == -ENOTSUP ? -EMSGSIZE : n;
  }
  for (int i = 0; i < n; ++i) {
    rte_mbuf* f = out[i];
    uint8_t* fd = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(f, prefix));
    if (fd == nullptr) {
      for (int k = 0; k < n; ++k) rte_pktmbuf_free(out[k]);
      rte_pktmbuf_prepend(m, prefix);
      return -EINVAL;
    }
    memcpy(fd, head, prefix);
    SetIpv4HeaderChecksum(fd + prefix);
    f->port = m->port;
    f->ol_flags = 0;
    f->packet_type = m->packet_type;
    f->tx_offload = m->tx_offload;
    if (!tunnel) continue;
    // Each fragment is an outer packet of its own.
    const uint32_t end = f->pkt_len;
    uint8_t* oip = fd + o.outer_l3;
    uint8_t* udp = fd + o.outer_l4;
    Put16(udp + 4, end - o.outer_l4);
    udp[6] = udp[7] = 0;
    if ((oip[0] >> 4) == 4) {
      Put16(oip + 2, end - o.outer_l3);
      Put16(oip + 4, Be16(oip + 4) + i);  // distinct outer IDs
      SetIpv4HeaderChecksum(oip);
      // VXLAN over IPv4 may (and usually does) send UDP checksum 0.
    } else {
      Put16(oip + 4, end - o.outer_l3 - 40);
      // IPv6 needs it (the outer checksum covers the whole fragment).
      SetL4Checksum(f, o.outer_l3, o.outer_l4, true);
    }
  }
  rte_pktmbuf_free(m);
  return n;
}

}  // namespace grod::dataplane
