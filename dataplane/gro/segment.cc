// Software GSO for merged packets.  Each output segment is a fresh header
// mbuf (copied headers, rewritten lengths/IDs/seq/flags, full checksums)
// followed by indirect mbufs referencing the merged packet's payload, so
// payload bytes are never copied.
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "dataplane/gro/checksum.h"
#include "dataplane/gro/gro_engine.h"

namespace grod::gro {
namespace {

constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

inline void Put16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline uint16_t Get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t Get32(const uint8_t* p) {
  return uint32_t(Get16(p)) << 16 | Get16(p + 2);
}

struct Shape {
  bool vxlan, outer_v6, v6, tcp;
  uint32_t outer_l3, outer_l4, l3, l4, hdr;
};

// Sets one IP header's length so the packet ends at `end`, and for IPv4
// the ID (first + i) and header checksum.
void FixIp(uint8_t* d, uint32_t l3, bool v6, uint32_t end, uint32_t i) {
  uint8_t* ip = d + l3;
  if (v6) {
    Put16(ip + 4, end - l3 - 40);
    return;
  }
  Put16(ip + 2, end - l3);
  Put16(ip + 4, Get16(ip + 4) + i);
  SetIpv4Checksum(ip);
}

// Appends indirect mbufs covering [off, off + len) of `src` to `h`.
bool AttachPayload(rte_mbuf* h, rte_mbuf** tail, const rte_mbuf* src,
                   uint32_t off, uint32_t len, rte_mempool* pool) {
  const rte_mbuf* seg = src;
  while (seg != nullptr && off >= seg->data_len) {
    off -= seg->data_len;
    seg = seg->next;
  }
  while (len > 0) {
    if (seg == nullptr) return false;
    const uint32_t n = RTE_MIN(len, uint32_t(seg->data_len) - off);
    rte_mbuf* mi = rte_pktmbuf_alloc(pool);
    if (mi == nullptr) return false;
    rte_pktmbuf_attach(mi, const_cast<rte_mbuf*>(seg));
    mi->data_off += off;
    mi->data_len = n;
    mi->pkt_len = n;
    (*tail)->next = mi;
    *tail = mi;
    h->nb_segs++;
    h->pkt_len += n;
    len -= n;
    off = 0;
    seg = seg->next;
  }
  return true;
}

}  // namespace

int Segment(rte_mbuf* merged, rte_mempool* direct_pool,
            rte_mempool* indirect_pool, rte_mbuf** out, uint16_t cap) {
  const uint64_t fl = merged->ol_flags;
  if (!(fl & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)) ||
      merged->tso_segsz == 0) {
    if (cap < 1) return -ENOSPC;
    out[0] = merged;
    return 1;
  }
  // The engine set these lengths from its own parse, so they are trusted.
  Shape s;
  s.vxlan = fl & RTE_MBUF_F_TX_TUNNEL_VXLAN;
  s.outer_v6 = fl & RTE_MBUF_F_TX_OUTER_IPV6;
  s.v6 = fl & RTE_MBUF_F_TX_IPV6;
  s.tcp = fl & RTE_MBUF_F_TX_TCP_SEG;
  s.outer_l3 = merged->outer_l2_len;
  s.outer_l4 = s.outer_l3 + merged->outer_l3_len;
  s.l3 = s.vxlan ? s.outer_l4 + merged->l2_len : merged->l2_len;
  s.l4 = s.l3 + merged->l3_len;
  s.hdr = s.l4 + merged->l4_len;
  if (s.hdr > merged->data_len || s.hdr >= merged->pkt_len) return -EINVAL;
  const uint32_t mss = merged->tso_segsz;
  const uint32_t payload = merged->pkt_len - s.hdr;
  const uint32_t nseg = (payload + mss - 1) / mss;
  if (nseg > cap) return -ENOSPC;

  const uint8_t* src = rte_pktmbuf_mtod(merged, const uint8_t*);
  const uint32_t seq0 = s.tcp ? Get32(src + s.l4 + 4) : 0;
  for (uint32_t i = 0; i < nseg; ++i) {
    const uint32_t len = RTE_MIN(mss, payload - i * mss);
    rte_mbuf* h = rte_pktmbuf_alloc(direct_pool);
    uint8_t* d =
        h ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(h, s.hdr)) : nullptr;
    rte_mbuf* tail = h;
    if (d == nullptr ||
        !AttachPayload(h, &tail, merged, s.hdr + i * mss, len, indirect_pool)) {
      if (h != nullptr) rte_pktmbuf_free(h);
      for (uint32_t k = 0; k < i; ++k) rte_pktmbuf_free(out[k]);
      return -ENOMEM;
    }
    memcpy(d, src, s.hdr);
    const uint32_t end = s.hdr + len;
    FixIp(d, s.l3, s.v6, end, i);
    uint8_t* l4 = d + s.l4;
    if (s.tcp) {
      const uint32_t seq = seq0 + i * mss;
      Put16(l4 + 4, seq >> 16);
      Put16(l4 + 6, seq);
      // FIN/PSH belong to the last segment, CWR to the first (as TSO does).
      if (i + 1 < nseg) l4[13] &= ~(kTcpFin | kTcpPsh);
      if (i > 0) l4[13] &= ~kTcpCwr;
    } else {
      Put16(l4 + 4, end - s.l4);
    }
    SetL4Checksum(h, s.l3, s.v6, s.l4, end - s.l4,
                  s.tcp ? IPPROTO_TCP : IPPROTO_UDP);
    if (s.vxlan) {
      FixIp(d, s.outer_l3, s.outer_v6, end, i);
      Put16(d + s.outer_l4 + 4, end - s.outer_l4);
      SetL4Checksum(h, s.outer_l3, s.outer_v6, s.outer_l4, end - s.outer_l4,
                    IPPROTO_UDP);
    }
    h->l2_len = merged->l2_len;
    h->l3_len = merged->l3_len;
    h->l4_len = merged->l4_len;
    h->outer_l2_len = merged->outer_l2_len;
    h->outer_l3_len = merged->outer_l3_len;
    h->packet_type = merged->packet_type;
    h->ol_flags = 0;  // complete packets: no offload requested
    out[i] = h;
  }
  rte_pktmbuf_free(merged);  // payload lives on through the indirect mbufs
  return int(nseg);
}

}  // namespace grod::gro
