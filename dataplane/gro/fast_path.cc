// The fast path: a packet of a held flow is recognized by comparing its
// header bytes with the flow's template under its shape's mask (see Shape in
// flow_table.h) and appended without a parse or a key lookup.  Equality
// under the mask, the length checks and the run checks below are exactly
// the conditions under which Parse() + Engine::Process() would append the
// packet at the end of the flow's only run; anything else takes that full
// path, which stays the single definition of every rule.
#include <netinet/in.h>
#include <rte_byteorder.h>

#include "dataplane/gro/engine.h"
#include "dataplane/gro/hash.h"
#include "dataplane/gro/list.h"

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

// True when `m` (data `d`) arrived on f's port, in f's mode, and its header
// bytes equal f's template wherever the shape's mask says so.
inline bool Matches(const FlowTable& t, const Flow& f, const rte_mbuf* m,
                    const uint8_t* d, uint8_t mode) {
  if (f.shape == kNoShape) return false;  // also every free entry
  const Shape& s = t.shape(f.shape);
  // Whole chunks are read (64 bytes at least): stay inside the buffer.
  const uint32_t read = s.nchunks > 4 ? s.nchunks * 16u : 64u;
  if (m->port != f.port || s.layout.mode != mode ||
      m->data_off + read > m->buf_len) {
    return false;
  }
  const __m128i* p = reinterpret_cast<const __m128i*>(d);
  const __m128i* tp = reinterpret_cast<const __m128i*>(f.tmpl);
  __m128i acc = _mm_and_si128(
      _mm_xor_si128(_mm_loadu_si128(p), _mm_load_si128(tp)), s.mask[0]);
  for (int i = 1; i < 4; ++i) {
    acc = _mm_or_si128(acc, _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p + i),
                                                        _mm_load_si128(tp + i)),
                                          s.mask[i]));
  }
  if (s.nchunks > 4) {
    const __m128i* hi = reinterpret_cast<const __m128i*>(t.cold(&f).tmpl_hi);
    for (int i = 4; i < s.nchunks; ++i) {
      acc = _mm_or_si128(
          acc, _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(p + i),
                                           _mm_load_si128(hi + i - 4)),
                             s.mask[i]));
    }
  }
  return _mm_testz_si128(acc, acc);
}

// The hash Parse() computes, from a few fields, for the packets that can
// take the fast path (plain TCP/UDP over IPv4/IPv6, <= 2 VLAN tags);
// false for anything else.  Only a lookup hint: Matches() decides.
inline bool PeekHash(const rte_mbuf* m, const uint8_t* d, uint16_t vxlan_port,
                     uint32_t* hash, bool* long_hdr) {
  const uint32_t len = m->data_len;
  if (len < 38) return false;
  uint32_t off = 14;
  uint16_t et = Load16(d + 12);
  for (int i = 0; i < 2; ++i) {
    if (et != RTE_BE16(0x8100) && et != RTE_BE16(0x88A8)) break;
    et = Load16(d + off + 2);
    off += 4;
  }
  const uint8_t *src, *dst;
  uint32_t l4, proto;
  bool v6;
  if (et == RTE_BE16(0x0800)) {
    if (off + 20 > len) return false;
    const uint8_t vihl = d[off];
    if ((vihl >> 4) != 4 || (vihl & 15) < 5) return false;
    if (Load16(d + off + 6) & RTE_BE16(0x3fff)) return false;  // fragment
    proto = d[off + 9];
    src = d + off + 12;
    dst = d + off + 16;
    l4 = off + (vihl & 15) * 4u;
    v6 = false;
  } else if (et == RTE_BE16(0x86DD)) {
    if (off + 40 > len) return false;
    proto = d[off + 6];
    src = d + off + 8;
    dst = d + off + 24;
    l4 = off + 40;
    v6 = true;
  } else {
    return false;
  }
  if (l4 + 8 > len) return false;
  uint32_t type;
  const uint16_t dport = Be16(d + l4 + 2);
  if (proto == IPPROTO_TCP) {
    type = v6 ? kTcp6 : kTcp4;
  } else if (proto == IPPROTO_UDP && dport != vxlan_port) {
    type = v6 ? kUdp6 : kUdp4;
  } else {
    return false;
  }
  *long_hdr = l4 + 8 > 64;
  *hash = FlowHash(src, dst, v6,
                   uint64_t(Be16(d + l4)) << 48 | uint64_t(dport) << 32 |
                       FlowWordLow(0, type, 0, m->port),
                   nullptr);
  return true;
}

enum class Fast { kMiss, kHeld, kEmitted };

}  // namespace

// Context internals for the fast path (a friend of Context).
class FastPath {
 public:
  explicit FastPath(Context* c)
      : c_(c), t_(c->table_), e_(c->cfg_, c->table_, &c->counters_) {}
  ~FastPath() {
    c_->counters_.packets_in += packets_;
    c_->counters_.bytes_in += bytes_;
  }

  // Appends `m` to `f` (which it Matches()) when the full path would append
  // it at the end of f's only run; kMiss leaves everything untouched.
  Fast Append(Flow* f, rte_mbuf* m, const uint8_t* d, Output* out) {
    const Shape& s = t_->shape(f->shape);
    const uint32_t pkt_len = m->pkt_len;
    const uint32_t len = pkt_len - s.hdr_len;
    Run& r = f->run0;
    // One segment, a payload, no padding or truncation (the IP length
    // field says exactly what the mbuf holds).
    if (f->nruns != 1 || m->nb_segs != 1 || pkt_len != m->data_len ||
        int32_t(len) <= 0 || Be16(d + s.len_off) != pkt_len - s.len_base) {
      return Fast::kMiss;
    }
    const uint32_t l4 = s.layout.l4_off;
    if (s.udp) {
      if (Be16(d + l4 + 4) != pkt_len - l4) return Fast::kMiss;
      if (!s.csum_zero && Load16(d + l4 + 6) == 0) return Fast::kMiss;
    } else if (Be32(d + l4 + 4) != r.end) {
      return Fast::kMiss;  // not the next in sequence: full path
    }
    const uint16_t id = s.layout.is_v6 ? 0 : Be16(d + s.layout.l3_off + 4);
    const ContextConfig& cfg = c_->cfg_;
    if (r.last_len != r.mss || len > r.mss || (r.flags & (kTcpPsh | kTcpFin)) ||
        (!s.df && id != uint16_t(r.last_id + 1)) ||
        r.segs >= cfg.max_segments || s.fit_base + r.bytes + len > e_.limit() ||
        t_->held_packets >= cfg.max_held_packets) {
      return Fast::kMiss;
    }
    if (s.layout.mode == uint8_t(Mode::kList)) {
      internal::Link(r.tail)->next = m;
    } else {
      // rte_pktmbuf_adj() without its checks (done above).
      m->data_off += s.hdr_len;
      m->data_len = uint16_t(len);
      m->pkt_len = len;
      r.tail->next = m;
      r.nsegs++;
    }
    r.tail = m;
    r.end += len;
    r.bytes += len;
    r.segs++;
    r.last_len = uint16_t(len);
    r.last_id = id;
    t_->held_packets++;
    packets_++;
    bytes_ += pkt_len;
    // In-order flow that can't grow: deliver now (as Engine::Process).
    if (r.segs >= cfg.max_segments || len < r.mss) {
      e_.FlushFlow(f, kFlushSize, out);
      return Fast::kEmitted;
    }
    return Fast::kHeld;
  }

  void Chunk(rte_mbuf* const* pkts, uint16_t n, Mode mode, uint64_t now,
             Output* out);
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

  Context* c_;
  FlowTable* t_;
  Engine e_;
  uint64_t packets_ = 0, bytes_ = 0;  // fast-path counters, stored once
};

void FastPath::Chunk(rte_mbuf* const* pkts, uint16_t n, Mode mode, uint64_t now,
                     Output* out) {
  const uint8_t md = uint8_t(mode);
  // Every packet may become a tail that the next packet of its flow is
  // chained to: fetch the mbuf's second line (`next`, the LIST link),
  // which RX leaves cold, well ahead.
  for (uint16_t i = 0; i < n; ++i) {
    rte_prefetch0(reinterpret_cast<const char*>(pkts[i]) + 64);
  }
  // Streaming: while packets continue the flow of the previous packet,
  // append them one by one.  A packet of that flow the fast path can't
  // take (out of order, a rule says no) takes the full path in place; the
  // first packet of another flow switches to the pipelined lookup.
  uint32_t cur = c_->last_flow_;
  uint16_t i = 0;
  for (; i < n; ++i) {
    if (cur == kNil) {
      if (i != 0) break;  // the flow just ended: look up the rest
      cur = Slow(pkts[i], mode, now, out);
      continue;
    }
    rte_mbuf* m = pkts[i];
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    Flow* f = t_->flow(cur);
    if (!Matches(*t_, *f, m, d, md)) break;
    const Fast r = Append(f, m, d, out);
    if (r == Fast::kHeld) continue;
    cur = r == Fast::kEmitted ? kNil : Slow(m, mode, now, out);
  }
  if (i < n) cur = Pipelined(pkts + i, uint16_t(n - i), mode, now, cur, out);
  c_->last_flow_ = cur;
}

uint32_t FastPath::Pipelined(rte_mbuf* const* pkts, uint16_t n, Mode mode,
                             uint64_t now, uint32_t cur, Output* out) {
  constexpr uint16_t kFlowAhead = 6, kTailAhead = 3;
  const uint8_t md = uint8_t(mode);
  const uint16_t vxlan_port = c_->cfg_.vxlan_port;
  bool hashed[32], long_hdr[32];
  uint32_t hash[32], cand[32];
  // Pass 1: hashes from a few header fields; fetch the slots.
  for (uint16_t i = 0; i < n; ++i) {
    const rte_mbuf* m = pkts[i];
    hashed[i] = PeekHash(m, rte_pktmbuf_mtod(m, const uint8_t*), vxlan_port,
                         &hash[i], &long_hdr[i]);
    if (hashed[i]) t_->PrefetchSlot(hash[i]);
  }
  // Slot -> candidate flow; fetch its hot lines.
  auto find = [&](uint16_t j) {
    cand[j] = hashed[j] ? t_->FindHash(hash[j]) : kNil;
    if (cand[j] == kNil) return;
    const Flow* f = t_->flow(cand[j]);
    rte_prefetch0(f);
    rte_prefetch0(&f->run0);
    if (long_hdr[j]) rte_prefetch0(t_->cold(f).tmpl_hi);
  };
  for (uint16_t j = 0; j < n && j < kFlowAhead; ++j) find(j);
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kFlowAhead < n) find(i + kFlowAhead);
    // The candidate's tail: its `next` is written by the merge.
    if (i + kTailAhead < n && cand[i + kTailAhead] != kNil) {
      FlowTable::PrefetchTail(*t_->flow(cand[i + kTailAhead]));
    }
    rte_mbuf* m = pkts[i];
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    // The candidate may be stale (flows came and went since the lookup):
    // Matches() is the identity check.  A flow created in this burst is
    // found as the previous packet's flow.
    Flow* f = nullptr;
    if (cand[i] != kNil && Matches(*t_, *t_->flow(cand[i]), m, d, md)) {
      f = t_->flow(cand[i]);
    } else if (cur != kNil && cur != cand[i] &&
               Matches(*t_, *t_->flow(cur), m, d, md)) {
      f = t_->flow(cur);
    }
    if (f != nullptr) {
      const Fast r = Append(f, m, d, out);
      if (r != Fast::kMiss) {
        cur = r == Fast::kHeld ? t_->index(f) : kNil;
        continue;
      }
    }
    cur = Slow(m, mode, now, out);
  }
  return cur;
}

uint16_t FastPath::Continue(rte_mbuf* const* pkts, uint16_t n, Output* out) {
  const uint32_t idx = c_->last_flow_;
  if (idx == kNil) return 0;
  Flow* f = t_->flow(idx);
  if (f->shape == kNoShape) return 0;
  const uint8_t md = t_->shape(f->shape).layout.mode;
  uint16_t i = 0;
  while (i < n) {
    rte_mbuf* m = pkts[i];
    const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
    if (!Matches(*t_, *f, m, d, md)) break;
    const Fast r = Append(f, m, d, out);
    if (r == Fast::kMiss) break;
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
  if (mode == Mode::kBypass || cfg_.verify_checksums) {
    // No fast path: every packet needs the full path.
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
