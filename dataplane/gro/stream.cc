// The streaming loop of the fast path: while packets continue one flow,
// full-size in-order segments are appended with one masked compare per
// packet (see fast_path.h and README "The fast path").
#include "dataplane/gro/fast_path.h"

namespace grod::gro {

// Appends pkts[i..n) to `f` while each continues it: Take()
// of the generic path, specialized for a run of one flow (template, mask
// and shape constants in registers; the run's state in locals, stored
// once; counters derived from the number taken).  Returns the index of the
// first packet not taken; *ended: f was emitted (the last packet taken
// completed it).  Runs once or twice per burst: every instruction here
// counts at one flow (callgrind, docs/BENCHMARKS_GRO.md), so the checks
// and the budget are worked out here, once, from what they load, and
// StreamT() (one instance per shape kind) gets the budget alone.
uint16_t FastPath::Stream(Flow* f, rte_mbuf* const* pkts, uint16_t i,
                          uint16_t n, uint8_t md, uint32_t max_held,
                          Output* out, bool* ended) {
  *ended = false;
  // The held limit bounds what the loop takes.  max_held is 0 while
  // fragment flows are held (Hot::max_held): then every packet needs its
  // address pair checked (Engine::OrderPair), so nothing streams.
  const uint32_t held = t_->held_packets;
  if (f->shape == kNoShape || held >= max_held) return i;
  const Shape& s = t_->shape(f->shape);
  const Run& r = f->run0;
  const uint32_t room = max_held - held;
  // (A flow with a template holds one run or none: only fragment flows
  // hold more, and they have none.)
  if (f->nruns == 0) return i;
  const uint32_t max_segs = c_->cfg_.max_segments;
  const uint32_t limit = e_.limit(!s.udp);
  if (s.layout.mode != md || !s.streamable || r.last_len != r.mss ||
      (r.flags & (kTcpPsh | kTcpFin)) || limit < s.fit_base ||
      r.segs >= max_segs) {
    return i;  // (length fields past byte 64: the generic path)
  }
  // Packets that still fit: segments, held packets (room), merged bytes
  // -- here, where the checks above loaded what it needs.  (A run's first
  // packet is held whatever its size: bytes may exceed.)
  const uint32_t seg_room = max_segs - r.segs;
  uint32_t budget = seg_room;
  if (budget > room) budget = room;
  if (budget > uint32_t(n - i)) budget = n - i;
  // (The division only when the byte limit may bind.)
  const uint32_t max_bytes = limit - s.fit_base;
  const uint32_t bytes_left = r.bytes < max_bytes ? max_bytes - r.bytes : 0;
  if (uint64_t(budget) * r.mss > bytes_left) budget = bytes_left / r.mss;
  // A run of one flow: fetch the rest of the burst's second lines now
  // (the streaming loop is a few cycles per packet, shorter than a DRAM
  // miss times any small prefetch distance).
  Ahead(pf_end_);
  using Fn =
      uint32_t (FastPath::*)(Flow*, const Shape&, rte_mbuf* const*, uint32_t);
  // Headers of up to 64 bytes (plain IPv4 TCP/UDP) or longer (IPv6, TCP
  // options such as timestamps, VLAN tags).
  static constexpr Fn kFns[16] = {
      &FastPath::StreamT<false, false, false, false>,
      &FastPath::StreamT<false, false, false, true>,
      &FastPath::StreamT<false, false, true, false>,
      &FastPath::StreamT<false, false, true, true>,
      &FastPath::StreamT<false, true, false, false>,
      &FastPath::StreamT<false, true, false, true>,
      &FastPath::StreamT<false, true, true, false>,
      &FastPath::StreamT<false, true, true, true>,
      &FastPath::StreamT<true, false, false, false>,
      &FastPath::StreamT<true, false, false, true>,
      &FastPath::StreamT<true, false, true, false>,
      &FastPath::StreamT<true, false, true, true>,
      &FastPath::StreamT<true, true, false, false>,
      &FastPath::StreamT<true, true, false, true>,
      &FastPath::StreamT<true, true, true, false>,
      &FastPath::StreamT<true, true, true, true>,
  };
  // (s.layout.mode == md: the shape knows LIST or MERGE.)
  const uint32_t k = (this->*kFns[s.stream_fn])(f, s, pkts + i, budget);
  // In-order flow that can't grow: deliver now (as Engine::Process).
  *ended = k != 0 && k == seg_room;
  if (*ended) e_.FlushFlow(f, kFlushSize, out);
  return uint16_t(i + k);
}

namespace {

// The steps of StreamT(), inlined into it: its loop is a few cycles per
// packet, and the split must not add any (callgrind instruction counts,
// docs/BENCHMARKS_GRO.md).

// The streaming loop's one masked compare.  Only full-size segments
// (payload == mss) are taken there; a short one ends the run and is left
// to Take().  So the IP (and UDP) length fields have one value, folded
// into the template under the mask: one masked compare checks the headers
// and the lengths.  (Shape::streamable: both fields lie within the first
// 64 bytes.)  Chunks 4.. of a longer header (kWide) have no length fields.
template <bool kUdp, bool kWide>
struct StreamMatch {
  __m128i k0, k1, k2, k3, t0, t1, t2, t3;  // mask, expected bytes
  int wide;
  __m128i kw[4], tw[4];

  // `full`: a full-size segment's pkt_len; `hi`: the template's bytes
  // [64, 128) (kWide only).
  [[gnu::always_inline]] StreamMatch(const Shape& s, const uint8_t* tmpl,
                                     const uint8_t* hi, uint32_t full) {
    const __m128i ip_len =
        _mm_set1_epi16(int16_t(rte_cpu_to_be_16(uint16_t(full - s.len_base))));
    const __m128i udp_len = _mm_set1_epi16(
        int16_t(rte_cpu_to_be_16(uint16_t(full - s.layout.l4_off))));
    const __m128i* tp = reinterpret_cast<const __m128i*>(tmpl);
    // Mask and expected bytes of chunk c (both length fields lie at even
    // offsets, so a 16-bit broadcast lines up with them).
    auto mask = [&](int c) {
      __m128i k = _mm_or_si128(s.mask[c], s.ip_len_bytes[c]);
      return kUdp ? _mm_or_si128(k, s.udp_len_bytes[c]) : k;
    };
    auto want = [&](int c) {
      __m128i t = _mm_or_si128(_mm_and_si128(_mm_load_si128(tp + c), s.mask[c]),
                               _mm_and_si128(ip_len, s.ip_len_bytes[c]));
      return kUdp ? _mm_or_si128(t, _mm_and_si128(udp_len, s.udp_len_bytes[c]))
                  : t;
    };
    k0 = mask(0), k1 = mask(1), k2 = mask(2), k3 = mask(3);
    t0 = want(0), t1 = want(1), t2 = want(2), t3 = want(3);
    wide = kWide ? s.nchunks - 4 : 0;
    if (kWide) {
      // All four chunks, a fixed count: a loop to `wide` became a
      // memcpy() call (callgrind).  Past the header the mask is 0, and
      // mask[] and tmpl_hi[] have room for four.
      const __m128i* h = reinterpret_cast<const __m128i*>(hi);
      for (int c = 0; c < 4; ++c) {
        kw[c] = s.mask[4 + c];
        tw[c] = _mm_and_si128(_mm_load_si128(h + c), kw[c]);
      }
    }
  }

  // The packet's header bytes at `d` (the caller checked they may be read).
  [[gnu::always_inline]] bool Equal(const uint8_t* d) const {
    const __m128i* p = reinterpret_cast<const __m128i*>(d);
    __m128i x = _mm_or_si128(
        _mm_or_si128(
            _mm_xor_si128(_mm_and_si128(_mm_loadu_si128(p), k0), t0),
            _mm_xor_si128(_mm_and_si128(_mm_loadu_si128(p + 1), k1), t1)),
        _mm_or_si128(
            _mm_xor_si128(_mm_and_si128(_mm_loadu_si128(p + 2), k2), t2),
            _mm_xor_si128(_mm_and_si128(_mm_loadu_si128(p + 3), k3), t3)));
    if (kWide) {
      for (int c = 0; c < wide; ++c) {
        x = _mm_or_si128(
            x, _mm_xor_si128(_mm_and_si128(_mm_loadu_si128(p + 4 + c), kw[c]),
                             tw[c]));
      }
    }
    return _mm_testz_si128(x, x);
  }
};

// The run's state the loop keeps in locals, stored once after it.
struct RunEnd {
  rte_mbuf* tail;
  uint32_t end;
  uint16_t last_id;
};

// Stores the loop's state into r after it took k more packets of `mss`
// payload bytes.  With DF (or IPv6) IDs are not checked; the run keeps
// the last one (at `id_off` of the last packet's `hdr` bytes of headers,
// which MERGE stripped).
template <bool kList, bool kCheckId>
[[gnu::always_inline]] inline void StoreRun(Run& r, const RunEnd& e, uint32_t k,
                                            uint32_t mss, uint32_t hdr,
                                            uint32_t id_off, bool v4) {
  r.tail = e.tail;
  r.end = e.end;
  r.bytes += k * mss;
  r.segs = uint16_t(r.segs + k);
  if (!kList) r.nsegs = uint16_t(r.nsegs + k);
  if (kCheckId) {
    r.last_id = e.last_id;
  } else if (k != 0) {
    r.last_id = v4 ? Be16(rte_pktmbuf_mtod(e.tail, const uint8_t*) -
                          (kList ? 0 : hdr) + id_off)
                   : 0;
  }
}

}  // namespace

template <bool kUdp, bool kList, bool kCheckId, bool kWide>
uint32_t FastPath::StreamT(Flow* f, const Shape& s, rte_mbuf* const* pkts,
                           uint32_t budget) {
  Run& r = f->run0;
  const uint32_t hdr = s.hdr_len, l4 = s.layout.l4_off,
                 id_off = s.layout.l3_off + 4u, mss = r.mss;
  const bool csum_present = !s.csum_zero, v4 = !s.layout.is_v6;
  const uint32_t full = hdr + mss;
  const StreamMatch<kUdp, kWide> match(
      s, f->tmpl, kWide ? t_->cold(f).tmpl_hi : nullptr, full);
  const uint32_t read_len = s.read_len;
  // nb_segs == 1 and port, as the upper half of the 8 bytes at data_off.
  const uint32_t segs_port = 1u | uint32_t(f->port) << 16;
  const uint64_t* rx = c_->rx_flags_[!kList];  // (see Hot::rx_mask)
  const uint64_t rx_mask = rx[!v4], rx_want = rx[2 + !v4];
  // pkt_len and data_len of a full-size segment, before and after the
  // headers are stripped (MERGE).
  const uint64_t full_lens = uint64_t(full) << 32 | full;
  const uint64_t payload_lens = uint64_t(mss) << 32 | mss;
  RunEnd cur{r.tail, r.end, r.last_id};
  uint32_t k = 0;  // packets taken
  // The callers prefetched the burst's second mbuf lines (`next`, written
  // below when the packet after it is chained).
  for (; k < budget; ++k) {
    rte_mbuf* m = pkts[k];
    uint64_t rearm;  // data_off, refcnt, nb_segs, port
    memcpy(&rearm, &m->data_off, 8);
    const uint32_t data_off = uint16_t(rearm);
    if (uint32_t(rearm >> 32) != segs_port ||
        data_off + (kWide ? read_len : 64u) > m->buf_len) {
      break;
    }
    const uint8_t* d = static_cast<const uint8_t*>(m->buf_addr) + data_off;
    uint64_t lens;  // pkt_len, data_len, vlan_tci
    memcpy(&lens, &m->pkt_len, 8);
    if (!match.Equal(d) || (lens & 0xffffffffffffull) != full_lens ||
        ((m->ol_flags & rx_mask) != rx_want && !FlagsOk(m, s))) {
      break;
    }
    if (kUdp) {
      if (csum_present && Load16(d + l4 + 6) == 0) break;
    } else if (Be32(d + l4 + 4) != cur.end) {
      break;
    }
    if (kCheckId) {
      const uint16_t id = v4 ? Be16(d + id_off) : 0;
      if (id != uint16_t(cur.last_id + 1)) break;
      cur.last_id = id;
    }
    if (kList) {
      internal::Link(cur.tail)->next = m;
    } else {
      // rte_pktmbuf_adj() without its checks (done above); vlan_tci kept.
      m->data_off = uint16_t(data_off + hdr);
      lens = (lens & 0xffff000000000000ull) | payload_lens;
      memcpy(&m->pkt_len, &lens, 8);
      cur.tail->next = m;
    }
    cur.tail = m;
    cur.end += mss;
  }
  StoreRun<kList, kCheckId>(r, cur, k, mss, hdr, id_off, v4);
  t_->held_packets += k;
  packets_ += k;
  bytes_ += uint64_t(k) * full;
  return k;
}

}  // namespace grod::gro
