// Software GSO for merged packets.  Every output segment gets the merged
// packet's headers with rewritten lengths/IDs/seq/flags and checksums.
//
// Two ways to build the segments, same bytes on the wire:
// - In place (the common case): the engine chains the original segments
//   and only strips their headers, so each chain mbuf still holds one MSS
//   of payload with the old headers' room in front.  Each mbuf becomes a
//   packet again: headers go into its headroom; nothing is allocated.
// - Otherwise (chains cut at other places, shared or indirect mbufs, no
//   headroom): a header mbuf per segment followed by indirect mbufs
//   referencing the payload (zero copy), allocated in bulk.
//
// L4 checksums: each payload byte is summed once, 16 bytes at a time, and
// that sum serves the inner and (VXLAN) outer checksum; headers are summed
// separately.  When the TX port offloads the L4 checksum, the payload is
// not read at all.
#include <emmintrin.h>
#include <netinet/in.h>
#include <rte_ethdev.h>

#include <cerrno>
#include <cstring>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/checksum.h"
#include "dataplane/gro/gro_engine.h"

namespace grod::gro {
namespace {

// Unfolded one's-complement sum of n bytes.  Native 32-bit words go into
// 64-bit lanes, which is the same sum once folded as rte_raw_cksum()'s
// native 16-bit words (2^16 == 1 mod 0xffff), with no carries to handle;
// a trailing partial word is zero-padded, as the checksum rules say.
uint64_t RawSum(const uint8_t* p, uint32_t n) {
  const __m128i zero = _mm_setzero_si128();
  __m128i a = zero, b = zero;
  for (; n >= 32; p += 32, n -= 32) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    a = _mm_add_epi64(a, _mm_unpacklo_epi32(x, zero));
    b = _mm_add_epi64(b, _mm_unpackhi_epi32(x, zero));
    a = _mm_add_epi64(a, _mm_unpacklo_epi32(y, zero));
    b = _mm_add_epi64(b, _mm_unpackhi_epi32(y, zero));
  }
  uint64_t lanes[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes), _mm_add_epi64(a, b));
  uint64_t s = lanes[0] + lanes[1];
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    s += (w & 0xffffffff) + (w >> 32);
  }
  if (n > 0) {
    uint64_t w = 0;
    memcpy(&w, p, n);
    s += (w & 0xffffffff) + (w >> 32);
  }
  return s;
}

// Folds to 16 bits (not inverted).
inline uint16_t Fold16(uint64_t s) {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  return Fold(uint32_t(s));
}
inline uint16_t Swap16(uint16_t v) { return uint16_t(v << 8 | v >> 8); }

struct Shape {
  bool vxlan, outer_v6, v6, tcp;
  bool hw_l4;  // the NIC computes the (inner, non-tunnel) L4 checksum
  uint32_t outer_l3, outer_l4, l3, l4, hdr, mss, nseg, payload, seq0;
  uint64_t tx_offload, ol_flags;
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
  Put16(ip + 4, Be16(ip + 4) + i);
  SetIpv4Checksum(ip);
}

// Stores the checksum of the L4 datagram [l4, end) whose bytes from `hdr`
// on sum to `payload` (folded, as summed from `hdr`).
void SetL4Sum(uint8_t* d, uint32_t l3, bool v6, uint32_t l4, uint32_t hdr,
              uint32_t end, uint8_t proto, uint16_t payload) {
  uint8_t* field = d + l4 + (proto == IPPROTO_TCP ? 16 : 6);
  field[0] = field[1] = 0;
  // A payload starting at an odd offset would sum with its bytes swapped
  // (never with real headers: their lengths are even).
  if ((hdr - l4) & 1) payload = Swap16(payload);
  const uint64_t sum = uint64_t(PseudoHeaderSum(d + l3, v6, proto, end - l4)) +
                       RawSum(d + l4, hdr - l4) + payload;
  uint16_t c = ~Fold16(sum);
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  memcpy(field, &c, 2);  // raw sums are byte-order neutral
}

// Writes segment i's headers at d (a copy of the merged headers) for a
// payload of `len` bytes summing to `payload`, and its metadata to h.
void FinishSegment(const Shape& s, uint32_t i, uint32_t len, uint16_t payload,
                   uint8_t* d, rte_mbuf* h) {
  const uint32_t end = s.hdr + len;
  FixIp(d, s.l3, s.v6, end, i);
  uint8_t* l4 = d + s.l4;
  if (s.tcp) {
    const uint32_t seq = s.seq0 + i * s.mss;
    Put16(l4 + 4, seq >> 16);
    Put16(l4 + 6, seq);
    // FIN/PSH belong to the last segment, CWR to the first (as TSO does).
    if (i + 1 < s.nseg) l4[13] &= ~(kTcpFin | kTcpPsh);
    if (i > 0) l4[13] &= ~kTcpCwr;
  } else {
    Put16(l4 + 4, end - s.l4);
  }
  const uint8_t proto = s.tcp ? IPPROTO_TCP : IPPROTO_UDP;
  if (s.hw_l4) {
    // TX checksum offload contract: the field holds the pseudo-header sum.
    const uint16_t ph =
        Fold(PseudoHeaderSum(d + s.l3, s.v6, proto, end - s.l4));
    memcpy(l4 + (s.tcp ? 16 : 6), &ph, 2);
  } else {
    SetL4Sum(d, s.l3, s.v6, s.l4, s.hdr, end, proto, payload);
  }
  if (s.vxlan) {
    FixIp(d, s.outer_l3, s.outer_v6, end, i);
    Put16(d + s.outer_l4 + 4, end - s.outer_l4);
    SetL4Sum(d, s.outer_l3, s.outer_v6, s.outer_l4, s.hdr, end, IPPROTO_UDP,
             payload);
  }
  h->tx_offload = s.tx_offload;
  h->ol_flags = s.ol_flags;
  h->vlan_tci = 0;
}

// Whether every chain mbuf holds exactly one segment's payload (the head
// also the headers) and may be rewritten, with room for the headers.
bool CanSplitInPlace(const rte_mbuf* m, const Shape& s) {
  if (m->nb_segs != s.nseg) return false;
  for (uint32_t i = 0; i < s.nseg; ++i, m = m->next) {
    const uint32_t want = RTE_MIN(s.mss, s.payload - i * s.mss);
    if (m == nullptr || !RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1 ||
        m->data_len != (i == 0 ? s.hdr + want : want) ||
        (i > 0 && rte_pktmbuf_headroom(m) < s.hdr)) {
      return false;
    }
  }
  return m == nullptr;
}

void SplitInPlace(rte_mbuf* merged, const Shape& s, rte_mbuf** out) {
  const uint8_t* src = rte_pktmbuf_mtod(merged, const uint8_t*);
  rte_mbuf* m = merged->next;
  // Members first: the head's headers are their template.
  for (uint32_t i = 1; i < s.nseg; ++i) {
    rte_mbuf* next = m->next;
    const uint32_t len = m->data_len;
    m->data_off -= s.hdr;
    m->data_len += s.hdr;
    m->pkt_len = m->data_len;
    m->nb_segs = 1;
    m->next = nullptr;
    m->port = merged->port;
    m->packet_type = merged->packet_type;
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    memcpy(d, src, s.hdr);
    const uint16_t sum = s.hw_l4 ? 0 : Fold16(RawSum(d + s.hdr, len));
    FinishSegment(s, i, len, sum, d, m);
    out[i] = m;
    m = next;
  }
  const uint32_t len = merged->data_len - s.hdr;
  uint8_t* d = rte_pktmbuf_mtod(merged, uint8_t*);
  merged->next = nullptr;
  merged->nb_segs = 1;
  merged->pkt_len = merged->data_len;
  const uint16_t sum = s.hw_l4 ? 0 : Fold16(RawSum(d + s.hdr, len));
  FinishSegment(s, 0, len, sum, d, merged);
  out[0] = merged;
}

// Hands out mbufs from a pool, allocated in bulk as they are needed.
class BulkSource {
 public:
  BulkSource(rte_mempool* pool, uint32_t need) : pool_(pool), need_(need) {}
  ~BulkSource() {
    if (next_ < count_) rte_pktmbuf_free_bulk(buf_ + next_, count_ - next_);
  }
  rte_mbuf* Get() {
    if (next_ == count_) {
      const uint32_t n = RTE_MIN(need_, kChunk);
      if (n == 0 || rte_pktmbuf_alloc_bulk(pool_, buf_, n) != 0) return nullptr;
      need_ -= n;
      count_ = n;
      next_ = 0;
    }
    return buf_[next_++];
  }

 private:
  static constexpr uint32_t kChunk = 32;
  rte_mempool* const pool_;
  uint32_t need_, count_ = 0, next_ = 0;
  rte_mbuf* buf_[kChunk];
};

// Where the next segment's payload starts in the merged chain.
struct Cursor {
  const rte_mbuf* seg;
  uint32_t off;
  // Takes up to `len` bytes from one chain mbuf (0: chain exhausted).
  uint32_t Take(uint32_t len, const uint8_t** p) {
    while (seg != nullptr && off >= seg->data_len) {  // also skips empty ones
      off -= seg->data_len;
      seg = seg->next;
    }
    if (seg == nullptr) return 0;
    const uint32_t n = RTE_MIN(len, uint32_t(seg->data_len) - off);
    *p = rte_pktmbuf_mtod_offset(seg, const uint8_t*, off);
    off += n;
    return n;
  }
};

// The indirect mbufs the segments need: one per (segment, chain mbuf)
// overlap.  Walks only mbuf headers.
uint32_t CountPieces(const rte_mbuf* merged, const Shape& s) {
  Cursor c{merged, s.hdr};
  uint32_t pieces = 0;
  for (uint32_t i = 0; i < s.nseg; ++i) {
    uint32_t len = RTE_MIN(s.mss, s.payload - i * s.mss);
    const uint8_t* p;
    for (uint32_t n; len > 0 && (n = c.Take(len, &p)) > 0; len -= n) ++pieces;
  }
  return pieces;
}

// Appends indirect mbufs covering the next `len` payload bytes to `h`;
// with `sum`, stores the bytes' folded sum (as summed from their start).
bool AttachPayload(rte_mbuf* h, Cursor* c, uint32_t len, BulkSource* ind,
                   bool sum, uint16_t* out) {
  rte_mbuf* tail = h;
  uint32_t done = 0;
  uint64_t total = 0;
  while (len > 0) {
    const uint8_t* p;
    const uint32_t n = c->Take(len, &p);
    if (n == 0) return false;
    const rte_mbuf* seg = c->seg;  // the mbuf the n bytes came from
    rte_mbuf* mi = ind->Get();
    if (mi == nullptr) return false;
    rte_pktmbuf_attach(mi, const_cast<rte_mbuf*>(seg));
    mi->data_off += c->off - n;
    mi->data_len = n;
    mi->pkt_len = n;
    tail->next = mi;
    tail = mi;
    h->nb_segs++;
    h->pkt_len += n;
    if (sum) {
      // A piece that starts at an odd offset sums with its bytes swapped.
      const uint16_t ps = Fold16(RawSum(p, n));
      total += done & 1 ? Swap16(ps) : ps;
    }
    done += n;
    len -= n;
  }
  *out = Fold16(total);
  return true;
}

int SplitWithHeaderMbufs(rte_mbuf* merged, const Shape& s,
                         rte_mempool* direct_pool, rte_mempool* indirect_pool,
                         rte_mbuf** out) {
  const uint8_t* src = rte_pktmbuf_mtod(merged, const uint8_t*);
  BulkSource hdrs(direct_pool, s.nseg);
  BulkSource ind(indirect_pool, CountPieces(merged, s));
  Cursor c{merged, s.hdr};
  for (uint32_t i = 0; i < s.nseg; ++i) {
    const uint32_t len = RTE_MIN(s.mss, s.payload - i * s.mss);
    rte_mbuf* h = hdrs.Get();
    uint8_t* d =
        h ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(h, s.hdr)) : nullptr;
    uint16_t sum = 0;
    if (d == nullptr || !AttachPayload(h, &c, len, &ind, !s.hw_l4, &sum)) {
      if (h != nullptr) rte_pktmbuf_free(h);
      for (uint32_t k = 0; k < i; ++k) rte_pktmbuf_free(out[k]);
      return -ENOMEM;
    }
    memcpy(d, src, s.hdr);
    h->packet_type = merged->packet_type;
    FinishSegment(s, i, len, sum, d, h);
    out[i] = h;
  }
  rte_pktmbuf_free(merged);  // payload lives on through the indirect mbufs
  return int(s.nseg);
}

}  // namespace

int Segment(rte_mbuf* merged, rte_mempool* direct_pool,
            rte_mempool* indirect_pool, rte_mbuf** out, uint16_t cap,
            uint64_t tx_offloads) {
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
  s.mss = merged->tso_segsz;
  s.payload = merged->pkt_len - s.hdr;
  s.nseg = (s.payload + s.mss - 1) / s.mss;
  if (s.nseg > cap) return -ENOSPC;

  s.seq0 =
      s.tcp ? Be32(rte_pktmbuf_mtod(merged, const uint8_t*) + s.l4 + 4) : 0;
  // Tunnelled inner checksums need the NIC's tunnel support (and the outer
  // UDP checksum covers the inner one): VXLAN stays in software.
  s.hw_l4 = !s.vxlan && (tx_offloads & (s.tcp ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM
                                              : RTE_ETH_TX_OFFLOAD_UDP_CKSUM));
  s.ol_flags = !s.hw_l4 ? 0  // complete packets: no offload requested
                        : (s.v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
                              (s.tcp ? RTE_MBUF_F_TX_TCP_CKSUM
                                     : RTE_MBUF_F_TX_UDP_CKSUM);
  s.tx_offload =
      rte_mbuf_tx_offload(merged->l2_len, merged->l3_len, merged->l4_len, 0,
                          merged->outer_l3_len, merged->outer_l2_len, 0);
  if (CanSplitInPlace(merged, s)) {
    SplitInPlace(merged, s, out);
    return int(s.nseg);
  }
  return SplitWithHeaderMbufs(merged, s, direct_pool, indirect_pool, out);
}

}  // namespace grod::gro
