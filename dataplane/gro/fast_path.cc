// The fast path: a packet of a held flow is recognized by comparing its
// header bytes with the flow's template under its shape's mask (see Shape in
// flow_table.h) and appended without a parse or a key lookup.  Equality
// under the mask, the length checks and the run checks below are exactly
// the conditions under which Parse() + Engine::Process() would append the
// packet at the end of the flow's only run; anything else takes that full
// path, which stays the single definition of every rule.
#include <netinet/in.h>
#include <rte_byteorder.h>

#include <cstddef>

#include "dataplane/gro/engine.h"
#include "dataplane/gro/hash.h"
#include "dataplane/gro/list.h"
#include "dataplane/gro/peek_hash.h"

namespace grod::gro {
namespace {

inline uint16_t Load16(const uint8_t* p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}
inline uint16_t Be16(const uint8_t* p) { return rte_be_to_cpu_16(Load16(p)); }
inline uint32_t Be32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return rte_be_to_cpu_32(v);
}

// True when the header bytes at `d` equal f's template wherever the
// shape's mask says so (the caller checked that s.read_len bytes may be
// read).
inline bool TemplateEqual(const FlowTable& t, const Flow& f, const Shape& s,
                          const uint8_t* d) {
  const __m128i* p = reinterpret_cast<const __m128i*>(d);
  const __m128i* tp = reinterpret_cast<const __m128i*>(f.tmpl);
  __m128i acc = _mm_or_si128(
      _mm_or_si128(
          _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p), tp[0]), s.mask[0]),
          _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p + 1), tp[1]),
                        s.mask[1])),
      _mm_or_si128(_mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p + 2), tp[2]),
                                 s.mask[2]),
                   _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p + 3), tp[3]),
                                 s.mask[3])));
  if (__builtin_expect(s.nchunks > 4, 0)) {
    const __m128i* hi = reinterpret_cast<const __m128i*>(t.cold(&f).tmpl_hi);
    for (int i = 4; i < s.nchunks; ++i) {
      acc = _mm_or_si128(
          acc, _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p + i), hi[i - 4]),
                             s.mask[i]));
    }
  }
  return _mm_testz_si128(acc, acc);
}

// kNoMatch: not the flow's packet; kMiss: the flow's packet, but the fast
// path may not take it (the full path decides); kRules: a well-formed
// packet of the flow that the merge rules must judge (out of order, a
// limit reached, ...: Rules()); kHeld / kEmitted: taken, the flow holds it
// / was emitted with it.
enum class Fast { kNoMatch, kMiss, kRules, kHeld, kEmitted };

// What the per-packet code reads and updates, as locals of a burst loop:
// a store into an mbuf or a run might alias a member of the table, the
// context or FastPath, so the compiler would reload members after each.
// `held` mirrors FlowTable::held_packets: synced around calls (Sync*).
struct Hot {
  Flow* flows;
  uint32_t max_segs, max_held, limit;
  uint32_t held;
  uint64_t packets = 0, bytes = 0;  // fast-path counters
};

}  // namespace

// Context internals for the fast path (a friend of Context).
class FastPath {
 public:
  explicit FastPath(Context* c)
      : c_(c), t_(c->table_), e_(c->cfg_, c->table_, &c->counters_) {
    if (c->cfg_.verify_checksums) {
      // With verification on, the fast path takes only packets whose
      // checksums the NIC found GOOD (what ChecksumsOk() trusts); every
      // other packet takes the full path, which checks in software.
      // (IPv6: no IP checksum; an IP verdict of BAD -- or NONE -- still
      // sends it to the full path.)
      rx_mask_[0] = RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK;
      rx_want_[0] = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
      rx_mask_[1] = RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_BAD;
      rx_want_[1] = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    }
  }
  ~FastPath() {
    c_->counters_.packets_in += packets_;
    c_->counters_.bytes_in += bytes_;
  }

  // If `m` is f's packet -- on f's port, in mode `md`, header bytes equal
  // to f's template under its shape's mask -- and the full path would
  // append it at the end of f's only run (or revive idle f with it), does
  // so; kNoMatch / kMiss / kRules leave everything untouched.
  Hot Load() const {
    return Hot{t_->flow(0), c_->cfg_.max_segments, c_->cfg_.max_held_packets,
               e_.limit(), t_->held_packets};
  }
  // Before / after a call that reads or changes the table's held count.
  void SyncOut(const Hot& h) { t_->held_packets = h.held; }
  void SyncIn(Hot& h) { h.held = t_->held_packets; }
  void Store(Hot& h) {
    t_->held_packets = h.held;
    packets_ += h.packets;
    bytes_ += h.bytes;
    h.packets = h.bytes = 0;
  }

  __attribute__((always_inline)) Fast Take(Hot& h, Flow* f, rte_mbuf* m,
                                           uint8_t md, Output* out) {
    const uint8_t si = f->shape;
    if (si == kNoShape) return Fast::kNoMatch;  // also every free entry
    const Shape& s = t_->shape(si);
    uint64_t rearm;  // data_off, refcnt, nb_segs, port
    memcpy(&rearm, &m->data_off, 8);
    const uint32_t data_off = uint16_t(rearm);
    if (uint16_t(rearm >> 48) != f->port || s.layout.mode != md ||
        data_off + s.read_len > m->buf_len) {
      return Fast::kNoMatch;
    }
    const uint8_t* d = static_cast<const uint8_t*>(m->buf_addr) + data_off;
    if (!TemplateEqual(*t_, *f, s, d)) return Fast::kNoMatch;
    const bool v6 = s.layout.is_v6;
    if ((m->ol_flags & rx_mask_[v6]) != rx_want_[v6]) return Fast::kMiss;
    uint64_t lens;  // pkt_len, data_len, vlan_tci
    memcpy(&lens, &m->pkt_len, 8);
    const uint32_t pkt_len = uint32_t(lens);
    const uint32_t len = pkt_len - s.hdr_len;
    Run& r = f->run0;
    // One segment, a payload, no padding or truncation (the IP length
    // field says exactly what the mbuf holds).
    if (uint16_t(rearm >> 32) != 1 || uint16_t(lens >> 32) != pkt_len ||
        int32_t(len) <= 0 || Be16(d + s.len_off) + s.len_base != pkt_len) {
      return Fast::kMiss;
    }
    const uint32_t l4 = s.layout.l4_off;
    if (s.udp) {
      if (Be16(d + l4 + 4) + l4 != pkt_len) return Fast::kMiss;
      if (!s.csum_zero && Load16(d + l4 + 6) == 0) return Fast::kMiss;
    }
    const uint16_t id = s.layout.is_v6 ? 0 : Be16(d + s.layout.l3_off + 4);
    if (f->nruns == 0) return Revive(h, f, s, m, d, len, id);
    if (f->nruns > 1) return Fast::kRules;  // out-of-order runs held
    if (!s.udp && Be32(d + l4 + 4) != r.end) {
      return Fast::kRules;  // not the next in sequence
    }
    if (r.last_len != r.mss || len > r.mss || (r.flags & (kTcpPsh | kTcpFin)) ||
        (!s.df && id != uint16_t(r.last_id + 1)) || r.segs >= h.max_segs ||
        s.fit_base + r.bytes + len > h.limit || h.held >= h.max_held) {
      return Fast::kRules;
    }
    if (md == uint8_t(Mode::kList)) {
      internal::Link(r.tail)->next = m;
    } else {
      // rte_pktmbuf_adj() without its checks (done above); vlan_tci kept.
      m->data_off = uint16_t(data_off + s.hdr_len);
      lens = (lens & 0xffff000000000000ull) | uint64_t(len) << 32 | len;
      memcpy(&m->pkt_len, &lens, 8);
      r.tail->next = m;
      r.nsegs++;
    }
    r.tail = m;
    r.end += len;
    r.bytes += len;
    r.segs++;
    r.last_len = uint16_t(len);
    r.last_id = id;
    h.held++;
    h.packets++;
    h.bytes += pkt_len;
    // In-order flow that can't grow: deliver now (as Engine::Process).
    if (r.segs >= h.max_segs || len < r.mss) {
      SyncOut(h);
      e_.FlushFlow(f, kFlushSize, out);
      SyncIn(h);
      return Fast::kEmitted;
    }
    return Fast::kHeld;
  }

  // Take() for an idle entry: the full path would find no live flow and
  // revive it (the template proves key, attributes and layout are the
  // same) with this packet as its first run -- unless the table is full,
  // the held limit is reached, or one segment already fills a packet.
  __attribute__((noinline)) Fast Revive(Hot& h, Flow* f, const Shape& s,
                                        rte_mbuf* m, const uint8_t* d,
                                        uint32_t len, uint16_t id) {
    if (t_->full() || h.held >= h.max_held || h.max_segs <= 1) {
      return Fast::kRules;
    }
    const uint32_t l4 = s.layout.l4_off;
    t_->Revive(f, now_);
    f->nruns = 1;
    Run& r = f->run0;
    r.head = r.tail = m;
    r.start = s.udp ? 0 : Be32(d + l4 + 4);
    r.end = r.start + len;
    r.bytes = len;
    r.segs = 1;
    r.nsegs = 1;
    r.mss = r.last_len = uint16_t(len);
    r.first_id = r.last_id = id;
    r.outer_first_id = r.outer_last_id = 0;
    r.flags = s.udp ? 0 : d[l4 + 13];
    r.last_mf = 0;
    h.held++;
    h.packets++;
    h.bytes += len + s.hdr_len;
    return Fast::kHeld;
  }

  // The full rules for a packet Take() answered kRules for: what Parse()
  // would produce is known from the flow (key, attributes, layout) and a
  // few fixed offsets, so no parse.  Returns the flow holding m, or kNil.
  uint32_t Rules(Hot& h, Flow* f, rte_mbuf* m, Mode mode, uint64_t now,
                 Output* out);

  void Chunk(rte_mbuf* const* pkts, uint16_t n, Mode mode, uint64_t now,
             Output* out);
  uint16_t Stream(Flow* f, rte_mbuf* const* pkts, uint16_t i, uint16_t n,
                  uint8_t md, Output* out, bool* ended);
  template <bool kUdp, bool kList, bool kCheckId, bool kWide>
  uint16_t StreamT(Flow* f, const Shape& s, rte_mbuf* const* pkts, uint16_t i,
                   uint16_t n, Output* out, bool* ended);
  // Hash lookups for a burst's remaining packets; returns the flow of the
  // last one (kNil if not held).  `cur`: the previous packet's flow.
  uint32_t Pipelined(rte_mbuf* const* pkts, uint16_t n, Mode mode, uint64_t now,
                     uint32_t cur, Output* out);
  uint16_t Continue(rte_mbuf* const* pkts, uint16_t n, Output* out);

 private:
  // Full path for one packet; returns the flow now holding it, or kNil.
  uint32_t Slow(rte_mbuf* m, Mode mode, uint64_t now, Output* out) {
    ParsedPacket p;
    Parse(m, ParseConfig{c_->cfg_.vxlan_port}, &p);
    Flow* f = e_.Process(m, p, mode, now, out);
    return f != nullptr ? t_->index(f) : kNil;
  }

  // Prefetches the second mbuf line of the burst's packets up to `upto`.
  void Ahead(rte_mbuf* const* upto) {
    if (upto > pf_end_) upto = pf_end_;
    for (; pf_ < upto; ++pf_) {
      rte_prefetch0(reinterpret_cast<const char*>(*pf_) + 64);
    }
  }
  static constexpr int kLine1Ahead = 8;

  Context* c_;
  FlowTable* t_;
  Engine e_;
  uint64_t now_ = 0;  // the burst's timestamp (revived flows start then)
  rte_mbuf* const* pf_ = nullptr;
  rte_mbuf* const* pf_end_ = nullptr;
  uint64_t packets_ = 0, bytes_ = 0;  // fast-path counters, stored once
  // RX checksum verdict a packet needs (ol_flags & mask == want), by
  // is_v6; 0/0 when the context does not verify checksums.
  uint64_t rx_mask_[2] = {0, 0}, rx_want_[2] = {0, 0};
};

// rte_mbuf fields read and written together (one 8-byte access each).
static_assert(offsetof(rte_mbuf, nb_segs) == offsetof(rte_mbuf, data_off) + 4 &&
              offsetof(rte_mbuf, port) == offsetof(rte_mbuf, data_off) + 6);
static_assert(offsetof(rte_mbuf, data_len) == offsetof(rte_mbuf, pkt_len) + 4);

// Appends pkts[i..n) to `f` while each continues it: Take()
// of the generic path, specialized for a run of one flow (template, mask
// and shape constants in registers; the run's state in locals, stored
// once; counters derived from the number taken).  Returns the index of the
// first packet not taken; *ended: f was emitted (the last packet taken
// completed it).
uint16_t FastPath::Stream(Flow* f, rte_mbuf* const* pkts, uint16_t i,
                          uint16_t n, uint8_t md, Output* out, bool* ended) {
  *ended = false;
  if (f->shape == kNoShape || f->nruns != 1) return i;
  const Shape& s = t_->shape(f->shape);
  const Run& r = f->run0;
  if (s.layout.mode != md || !s.streamable || r.last_len != r.mss ||
      (r.flags & (kTcpPsh | kTcpFin)) || e_.limit() < s.fit_base ||
      r.segs >= c_->cfg_.max_segments ||
      t_->held_packets >= c_->cfg_.max_held_packets) {
    return i;  // (length fields past byte 64: the generic path)
  }
  // A run of one flow: fetch the rest of the burst's second lines now
  // (the streaming loop is a few cycles per packet, shorter than a DRAM
  // miss times any small prefetch distance).
  Ahead(pf_end_);
  const bool list = md == uint8_t(Mode::kList);
  using Fn = uint16_t (FastPath::*)(Flow*, const Shape&, rte_mbuf* const*,
                                    uint16_t, uint16_t, Output*, bool*);
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
  const Fn fn =
      kFns[s.udp * 8 + list * 4 + !s.df * 2 + (s.nchunks > 4 ? 1 : 0)];
  return (this->*fn)(f, s, pkts, i, n, out, ended);
}

template <bool kUdp, bool kList, bool kCheckId, bool kWide>
uint16_t FastPath::StreamT(Flow* f, const Shape& s, rte_mbuf* const* pkts,
                           uint16_t i, uint16_t n, Output* out, bool* ended) {
  Run& r = f->run0;
  const uint32_t hdr = s.hdr_len, l4 = s.layout.l4_off,
                 id_off = s.layout.l3_off + 4u, mss = r.mss;
  const bool csum_present = !s.csum_zero, v4 = !s.layout.is_v6;
  // Only full-size segments (payload == mss) are taken here; a short one
  // ends the run and is left to Take().  So the IP (and UDP) length fields
  // have one value, folded into the template under the mask: one masked
  // compare checks the headers and the lengths.  (Shape::streamable: both
  // fields lie within the first 64 bytes.)
  const uint32_t full = hdr + mss;
  const __m128i ip_len =
      _mm_set1_epi16(int16_t(rte_cpu_to_be_16(uint16_t(full - s.len_base))));
  const __m128i udp_len =
      _mm_set1_epi16(int16_t(rte_cpu_to_be_16(uint16_t(full - l4))));
  const __m128i* tp = reinterpret_cast<const __m128i*>(f->tmpl);
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
  const __m128i k0 = mask(0), k1 = mask(1), k2 = mask(2), k3 = mask(3);
  const __m128i t0 = want(0), t1 = want(1), t2 = want(2), t3 = want(3);
  // Chunks 4.. of a longer header (no length fields there: streamable).
  const int wide = kWide ? s.nchunks - 4 : 0;
  __m128i kw[4], tw[4];
  const __m128i* hi =
      kWide ? reinterpret_cast<const __m128i*>(t_->cold(f).tmpl_hi) : nullptr;
  for (int c = 0; c < wide; ++c) {
    kw[c] = s.mask[4 + c];
    tw[c] = _mm_and_si128(_mm_load_si128(hi + c), kw[c]);
  }
  const uint32_t read_len = s.read_len;
  // nb_segs == 1 and port, as the upper half of the 8 bytes at data_off.
  const uint32_t segs_port = 1u | uint32_t(f->port) << 16;
  const uint64_t rx_mask = rx_mask_[!v4], rx_want = rx_want_[!v4];
  // pkt_len and data_len of a full-size segment, before and after the
  // headers are stripped (MERGE).
  const uint64_t full_lens = uint64_t(full) << 32 | full;
  const uint64_t payload_lens = uint64_t(mss) << 32 | mss;
  // Packets that still fit: segments, held packets, merged bytes.  (A
  // run's first packet is held whatever its size: bytes may exceed.)
  const uint32_t seg_room = c_->cfg_.max_segments - r.segs;
  uint32_t budget = seg_room;
  const uint32_t held_room = c_->cfg_.max_held_packets - t_->held_packets;
  if (held_room < budget) budget = held_room;
  if (budget > uint32_t(n - i)) budget = n - i;
  // (The division only when the byte limit may bind.)
  const uint32_t max_bytes = e_.limit() - s.fit_base;
  const uint32_t bytes_left = r.bytes < max_bytes ? max_bytes - r.bytes : 0;
  if (uint64_t(budget) * mss > bytes_left) budget = bytes_left / mss;
  rte_mbuf* tail = r.tail;
  uint32_t end = r.end;
  uint16_t last_id = r.last_id;
  uint32_t k = 0;  // packets taken
  // The callers prefetched the burst's second mbuf lines (`next`, written
  // below when the packet after it is chained).
  for (; k < budget; ++k) {
    rte_mbuf* m = pkts[i + k];
    uint64_t rearm;  // data_off, refcnt, nb_segs, port
    memcpy(&rearm, &m->data_off, 8);
    const uint32_t data_off = uint16_t(rearm);
    if (uint32_t(rearm >> 32) != segs_port ||
        data_off + (kWide ? read_len : 64u) > m->buf_len) {
      break;
    }
    const uint8_t* d = static_cast<const uint8_t*>(m->buf_addr) + data_off;
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
    uint64_t lens;  // pkt_len, data_len, vlan_tci
    memcpy(&lens, &m->pkt_len, 8);
    if (!_mm_testz_si128(x, x) || (lens & 0xffffffffffffull) != full_lens ||
        (m->ol_flags & rx_mask) != rx_want) {
      break;
    }
    if (kUdp) {
      if (csum_present && Load16(d + l4 + 6) == 0) break;
    } else if (Be32(d + l4 + 4) != end) {
      break;
    }
    if (kCheckId) {
      const uint16_t id = v4 ? Be16(d + id_off) : 0;
      if (id != uint16_t(last_id + 1)) break;
      last_id = id;
    }
    if (kList) {
      internal::Link(tail)->next = m;
    } else {
      // rte_pktmbuf_adj() without its checks (done above); vlan_tci kept.
      m->data_off = uint16_t(data_off + hdr);
      lens = (lens & 0xffff000000000000ull) | payload_lens;
      memcpy(&m->pkt_len, &lens, 8);
      tail->next = m;
    }
    tail = m;
    end += mss;
  }
  r.tail = tail;
  r.end = end;
  r.bytes += k * mss;
  r.segs = uint16_t(r.segs + k);
  if (!kList) r.nsegs = uint16_t(r.nsegs + k);
  // With DF (or IPv6) IDs are not checked; the run keeps the last one.
  if (kCheckId) {
    r.last_id = last_id;
  } else if (k != 0) {
    r.last_id = v4 ? Be16(rte_pktmbuf_mtod(tail, const uint8_t*) -
                          (kList ? 0 : hdr) + id_off)
                   : 0;
  }
  t_->held_packets += k;
  packets_ += k;
  bytes_ += uint64_t(k) * full;
  i = uint16_t(i + k);
  // In-order flow that can't grow: deliver now (as Engine::Process).
  *ended = k != 0 && k == seg_room;
  if (*ended) e_.FlushFlow(f, kFlushSize, out);
  return i;
}

uint32_t FastPath::Rules(Hot& h, Flow* f, rte_mbuf* m, Mode mode, uint64_t now,
                         Output* out) {
  const Shape& s = t_->shape(f->shape);
  const FlowCold& c = t_->cold(f);
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const Layout& l = s.layout;
  ParsedPacket p;
  static_assert(sizeof(ParsedPacket) % 16 == 0 && alignof(ParsedPacket) == 16);
  __m128i* z = reinterpret_cast<__m128i*>(&p);
  for (size_t i = 0; i < sizeof(ParsedPacket) / 16; ++i) {
    _mm_store_si128(z + i, _mm_setzero_si128());
  }
  // Exactly Parse()'s output for this packet: Take() checked that its
  // headers equal the flow's first packet's (Parse'd) but for the masked
  // fields, and that the length fields agree with the mbuf.
  p.vlan_id = c.key.tci[0] & 0x0fff;
  p.dst_is_v6 = l.is_v6;
  memcpy(p.dst_ip, c.key.dst, 16);
  p.reason = kPassNone;
  p.key_valid = true;
  p.type = l.type;
  p.is_v6 = l.is_v6;
  p.l4_proto = l.proto;
  p.tcp_flags = s.udp ? 0 : d[l.l4_off + 13];
  p.l3_off = l.l3_off;
  p.l4_off = l.l4_off;
  p.payload_off = l.payload_off;
  p.ip_id = l.is_v6 ? 0 : Be16(d + l.l3_off + 4);
  p.payload_len = m->pkt_len - l.payload_off;
  p.seq = s.udp ? 0 : Be32(d + l.l4_off + 4);
  p.hash = f->hash;
  p.attrs = c.attrs;
  p.key = c.key;
  SyncOut(h);
  Flow* g = e_.Process(m, p, mode, now, out, f);
  SyncIn(h);
  return g != nullptr ? t_->index(g) : kNil;
}

void FastPath::Chunk(rte_mbuf* const* pkts, uint16_t n, Mode mode, uint64_t now,
                     Output* out) {
  const uint8_t md = uint8_t(mode);
  // Every packet may become a tail that the next packet of its flow is
  // chained to: its mbuf's second line (`next`, the LIST link), which RX
  // leaves cold, is fetched kLine1Ahead packets ahead.
  pf_ = pkts;
  pf_end_ = pkts + n;
  Ahead(pkts + kLine1Ahead);
  // Streaming: while packets continue the flow of the previous packet,
  // append them in a tight loop.  A packet of that flow the fast path
  // can't take (out of order, a rule says no) takes the full path in
  // place; the first packet of another flow switches to the pipelined
  // lookup for the rest of the burst.
  uint32_t cur = c_->last_flow_;
  // Emitted since (e.g. by a flush between bursts), the entry is idle and
  // the next packet revives it; if it was freed, the full path decides.
  now_ = now;
  if (cur != kNil && t_->flow(cur)->shape == kNoShape) cur = kNil;
  Hot h = Load();
  uint16_t i = 0;
  // The last burst ended streaming this flow: one flow at a time, this
  // one most likely goes on with it, so skip the one-packet probe below.
  bool streamed = false;  // the burst's last packet went to Stream()
  if (cur != kNil && c_->streaming_) {
    bool ended;
    i = Stream(h.flows + cur, pkts, 0, n, md, out, &ended);
    SyncIn(h);
    streamed = i == n && !ended;
  }
  while (i < n) {
    streamed = false;
    if (cur == kNil) {  // no flow yet, or it was just emitted
      SyncOut(h);
      cur = Slow(pkts[i], mode, now, out);
      SyncIn(h);
      ++i;
      continue;
    }
    Flow* f = h.flows + cur;
    // One packet by Take() first: the streaming loop's setup pays off
    // only when the flow goes on (its first packet is compared again).
    rte_mbuf* m = pkts[i];
    Fast r = Take(h, f, m, md, out);
    if (r == Fast::kHeld && i + 1 < n) {
      bool ended;
      SyncOut(h);
      i = Stream(f, pkts, uint16_t(i + 1), n, md, out, &ended);
      SyncIn(h);
      if (ended || i == n) {  // (idle: the next packet may revive)
        streamed = i == n && !ended;
        continue;
      }
      m = pkts[i];
      r = Take(h, f, m, md, out);
    }
    if (r == Fast::kNoMatch) {
      Store(h);
      cur = Pipelined(pkts + i, uint16_t(n - i), mode, now, cur, out);
      SyncIn(h);
      break;
    }
    // Its flow, but not for the streaming loop: the generic fast path took
    // it, else the rules or the full path.
    if (r == Fast::kRules) {
      cur = Rules(h, f, m, mode, now, out);
    } else if (r == Fast::kMiss) {
      SyncOut(h);
      cur = Slow(m, mode, now, out);
      SyncIn(h);
    }
    ++i;
  }
  Store(h);
  c_->last_flow_ = cur;
  c_->streaming_ = streamed;
}

uint32_t FastPath::Pipelined(rte_mbuf* const* pkts, uint16_t n, Mode mode,
                             uint64_t now, uint32_t cur, Output* out) {
  constexpr uint16_t kFlowAhead = 10, kTailAhead = 5;
  const uint8_t md = uint8_t(mode);
  const uint16_t vxlan_port = c_->cfg_.vxlan_port;
  const FlowTable::Slots slots = t_->slots();
  Hot h = Load();
  // Lookahead stages read past n without bounds checks: padded arrays.
  constexpr int kPad = kFlowAhead + 1;
  bool long_hdr[32 + kPad];
  uint32_t hash[32 + kPad], cand[32 + kPad];
  // Pass 1: hashes from a few header fields; fetch the slots.  Packets
  // that can't take the fast path get no candidate (kNil); with no entry
  // in the table, none does (a flow created in this burst is still found
  // as the previous packet's flow).
  const uint16_t hashed = t_->entries() != 0 ? n : 0;
  for (uint16_t i = hashed; i < n; ++i) cand[i] = kNil;
  for (uint16_t i = 0; i < hashed; ++i) {
    const rte_mbuf* m = pkts[i];
    if (PeekHash(m, rte_pktmbuf_mtod(m, const uint8_t*), vxlan_port, &hash[i],
                 &long_hdr[i])) {
      slots.Prefetch(hash[i]);
      cand[i] = 0;
    } else {
      cand[i] = kNil;
    }
  }
  for (int j = n; j < n + kPad; ++j) cand[j] = kNil;
  // Slot -> candidate flow; fetch its hot lines.
  auto find = [&](uint16_t j) {
    if (cand[j] == kNil) return;
    const uint32_t idx = cand[j] = slots.Find(hash[j]);
    if (idx == kNil) return;
    const Flow* f = h.flows + idx;
    rte_prefetch0(f);
    rte_prefetch0(&f->run0);
    if (long_hdr[j]) rte_prefetch0(t_->cold(f).tmpl_hi);
  };
  for (uint16_t j = 0; j < kFlowAhead; ++j) find(j);
  // Second mbuf lines: continue where the caller's prefetches stopped.
  uint16_t ahead = pf_ > pkts ? uint16_t(pf_ - pkts) : 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (ahead < n && ahead <= i + kLine1Ahead) {
      rte_prefetch0(reinterpret_cast<const char*>(pkts[ahead++]) + 64);
    }
    find(i + kFlowAhead);
    // The candidate's tail: its `next` is written by the merge.
    if (cand[i + kTailAhead] != kNil) {
      FlowTable::PrefetchTail(h.flows[cand[i + kTailAhead]]);
    }
    rte_mbuf* m = pkts[i];
    // The candidate may be stale (flows came and went since the lookup):
    // the template compare is the identity check.  A flow created in this
    // burst is found as the previous packet's flow.
    Fast r = Fast::kNoMatch;
    uint32_t idx = cand[i];
    if (idx != kNil) r = Take(h, h.flows + idx, m, md, out);
    if (r == Fast::kNoMatch && cur != kNil && cur != idx) {
      idx = cur;
      r = Take(h, h.flows + idx, m, md, out);
    }
    if (r == Fast::kHeld || r == Fast::kEmitted) {
      cur = idx;
    } else if (r == Fast::kRules) {
      cur = Rules(h, h.flows + idx, m, mode, now, out);
    } else {
      SyncOut(h);
      cur = Slow(m, mode, now, out);
      SyncIn(h);
    }
  }
  pf_ = pkts + ahead;
  Store(h);
  return cur;
}

uint16_t FastPath::Continue(rte_mbuf* const* pkts, uint16_t n, Output* out) {
  const uint32_t idx = c_->last_flow_;
  if (idx == kNil) return 0;
  Flow* f = t_->flow(idx);
  // Live flows only (the fast path's revival needs a timestamp).
  if (f->shape == kNoShape || f->nruns == 0) return 0;
  const uint8_t md = t_->shape(f->shape).layout.mode;
  pf_ = pkts;
  pf_end_ = pkts + n;
  Ahead(pkts + kLine1Ahead);
  uint16_t i = 0;
  while (i < n) {
    bool ended;
    i = Stream(f, pkts, i, n, md, out, &ended);
    if (ended) {
      c_->last_flow_ = kNil;
      break;
    }
    if (i == n) break;
    // Not for the streaming loop (long headers, ...): the generic path.
    if (f->nruns == 0) break;
    Hot h = Load();
    const Fast r = Take(h, f, pkts[i], md, out);
    Store(h);
    if (r == Fast::kNoMatch || r == Fast::kMiss || r == Fast::kRules) break;
    ++i;
    if (r == Fast::kEmitted) {
      c_->last_flow_ = kNil;
      break;
    }
  }
  return i;
}

void Context::ProcessBurst(rte_mbuf* const* pkts, uint16_t n, Mode mode,
                           uint64_t now_tsc, Output* out) {
  if (mode == Mode::kBypass) {
    // No fast path: every packet passes through the full path.
    ParsedPacket p[32];
    for (uint16_t i = 0; i < n; i += 32) {
      const uint16_t k = n - i < 32 ? n - i : 32;
      ParseBurst(pkts + i, k, ParseConfig{cfg_.vxlan_port}, p);
      ProcessBurst(pkts + i, p, k, mode, now_tsc, out);
    }
    return;
  }
  FastPath fp(this);
  for (uint16_t i = 0; i < n; i += 32) {
    fp.Chunk(pkts + i, n - i < 32 ? n - i : 32, mode, now_tsc, out);
  }
}

uint16_t Context::ContinueFlow(rte_mbuf* const* pkts, uint16_t n, Output* out) {
  if (last_flow_ == UINT32_MAX || n == 0) return 0;
  return FastPath(this).Continue(pkts, n, out);
}

}  // namespace grod::gro
