// The fast path: a packet of a held flow is recognized by comparing its
// header bytes with the flow's template under its shape's mask (see Shape in
// flow_table.h) and appended without a parse or a key lookup.  Equality
// under the mask, the length checks and the run checks below are exactly
// the conditions under which Parse() + Engine::Process() would append the
// packet at the end of the flow's only run; anything else takes that full
// path, which stays the single definition of every rule.
//
// This header is internal to the engine: the FastPath class (a friend of
// Context) and its per-packet helpers, shared by fast_path.cc (bursts,
// lookups, rules) and stream.cc (the streaming loop).
#ifndef GROD_DATAPLANE_GRO_FAST_PATH_H_
#define GROD_DATAPLANE_GRO_FAST_PATH_H_

#include <netinet/in.h>
#include <rte_byteorder.h>

#include <cstddef>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/checksum.h"
#include "dataplane/gro/engine.h"
#include "dataplane/gro/hash.h"
#include "dataplane/gro/list.h"
#include "dataplane/gro/peek_hash.h"

namespace grod::gro {
namespace fast_path_internal {

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
// packet of the flow that the merge rules must judge (a duplicate, the
// held limit reached, ...: Rules()); kHeld / kEmitted: taken, the flow
// holds it / was emitted with it.
enum class Fast { kNoMatch, kMiss, kRules, kHeld, kEmitted };

// What the per-packet code reads and updates, as locals of a burst loop:
// a store into an mbuf or a run might alias a member of the table, the
// context or FastPath, so the compiler would reload members after each.
// `held` mirrors FlowTable::held_packets: synced around calls (Sync*).
struct Hot {
  Flow* flows;
  uint32_t max_segs;
  // max_held_packets -- or 0 while fragment flows are held
  // (FlowTable::frag_live()): then a packet's address pair must be checked
  // (Engine::OrderPair), so the rules judge it.  Every way Take() holds a
  // packet checks held < max_held, so one compare does both (no extra
  // test per packet).
  uint32_t max_held;
  uint32_t limit_tcp, limit_udp;  // Engine::limit(): shapes are TCP or UDP
  uint32_t held;
  // Context::rx_flags_ for the burst's mode: a packet whose ol_flags &
  // rx_mask[is_v6] == rx_want[is_v6] is taken at once (else FlagsOk()).
  alignas(16) uint64_t rx_mask[2], rx_want[2];
  uint64_t packets = 0, bytes = 0;  // fast-path counters
};
static_assert(offsetof(Hot, rx_want) == offsetof(Hot, rx_mask) + 16);

}  // namespace fast_path_internal

using fast_path_internal::Fast;
using fast_path_internal::Hot;
using fast_path_internal::TemplateEqual;

// Context internals for the fast path (a friend of Context).
class FastPath {
 public:
  // Per ProcessBurst() call: only what the burst needs (the accepted
  // ol_flags follow from the config: SetRxFlags()).
  explicit FastPath(Context* c)
      : c_(c), t_(c->table_), e_(c->cfg_, c->table_, &c->counters_) {}
  ~FastPath() {
    c_->counters_.packets_in += packets_;
    c_->counters_.bytes_in += bytes_;
  }

  // Context::rx_flags_ for c's config; once, when the context is created
  // (its config never changes).
  static void SetRxFlags(Context* c) {
    // [mode is MERGE][is_v6]
    uint64_t mask[2][2], want[2][2] = {};
    // A packet already aggregated (kPreAggregated) is never taken: it
    // goes to the full path, which passes it.
    mask[0][0] = mask[0][1] = mask[1][0] = mask[1][1] = kPreAggregated;
    if (c->cfg_.verify_checksums) {
      // With verification on, a packet whose checksums the NIC found GOOD
      // (what ChecksumsOk() trusts) is taken at once; for any other verdict
      // FlagsOk() answers as ChecksumsOk() would (BAD: no; none: the
      // checksums in software), and a packet that fails goes to the full
      // path, which passes it.  (IPv6: no IP checksum; the mask only
      // catches an IP verdict of BAD -- or NONE.)  MERGE only: LIST
      // changes no byte, so it never looks at checksums.
      mask[1][0] |= RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK;
      want[1][0] = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
      mask[1][1] |= RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_BAD;
      want[1][1] = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    }
    for (int merge = 0; merge < 2; ++merge) {
      uint64_t* f = c->rx_flags_[merge];
      f[0] = mask[merge][0], f[1] = mask[merge][1];
      f[2] = want[merge][0], f[3] = want[merge][1];
    }
  }

  // If `m` is f's packet -- on f's port, in mode `md`, header bytes equal
  // to f's template under its shape's mask -- and the full path would
  // append it at the end of f's only run (or revive idle f with it), does
  // so; kNoMatch / kMiss / kRules leave everything untouched.
  Hot Load(uint8_t md) const {
    // Field by field: an aggregate initializer would zero the flags first.
    Hot h;
    h.flows = t_->flow(0);
    h.max_segs = c_->cfg_.max_segments;
    h.max_held = MaxHeld();
    h.limit_tcp = e_.limit(true);
    h.limit_udp = e_.limit(false);
    h.held = t_->held_packets;
    // (One 32-byte copy: the four flags in the order Hot keeps them.)
    memcpy(h.rx_mask, c_->rx_flags_[md == uint8_t(Mode::kMerge)], 32);
    return h;
  }
  // Hot::max_held.
  uint32_t MaxHeld() const {
    return t_->frag_live() != 0 ? 0 : c_->cfg_.max_held_packets;
  }
  // Before / after a call that reads or changes the table's held count.
  // SyncIn() after the full path (Slow, Rules: it may hold a fragment
  // flow); SyncHeld() after a call that only streams into or emits a flow
  // of a shape (never a fragment flow: FlowTable::frag_live() can only
  // fall, and a stale max_held of 0 merely sends packets to the rules).
  void SyncOut(const Hot& h) { t_->held_packets = h.held; }
  void SyncIn(Hot& h) {
    h.held = t_->held_packets;
    h.max_held = MaxHeld();
  }
  void SyncHeld(Hot& h) { h.held = t_->held_packets; }
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
    // The index as stored (0 or 1: LayoutOf() copies a bool), not
    // converted to bool: no test-and-set per packet.
    const uint32_t v6 = s.layout.is_v6;
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
    if ((m->ol_flags & h.rx_mask[v6]) != h.rx_want[v6] && !FlagsOk(m, s)) {
      return Fast::kMiss;  // (the full path passes it, counted)
    }
    // (Fragment flows held: h.max_held is 0, so OffRun() below.)
    const uint16_t id = s.layout.is_v6 ? 0 : Be16(d + s.layout.l3_off + 4);
    if (f->nruns == 0) return Revive(h, f, s, m, d, len, id);
    // Not the next in sequence, or a rule says no.  (UDP: one run; the
    // word read as seq is not used.)
    const uint32_t seq = Be32(d + l4 + 4);
    const bool off = !s.udp & (seq != r.end);
    if (off || !Fits(h, r, s, len, id)) {
      return OffRun(h, f, s, m, d, len, id, out);
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
    // (Only fragment flows hold more than one run, and they have no
    // template: here f holds one.)
    if (r.segs >= h.max_segs || len < r.mss) {
      SyncOut(h);
      e_.FlushFlow(f, kFlushSize, out);
      SyncHeld(h);
      return Fast::kEmitted;
    }
    return Fast::kHeld;
  }

  // Whether the rules let a packet of `len` payload bytes and IP ID `id`
  // join run r at its end (Engine::CanAppend), and the held limit lets it
  // be held.
  static bool Fits(const Hot& h, const Run& r, const Shape& s, uint32_t len,
                   uint16_t id) {
    return !(r.last_len != r.mss || len > r.mss ||
             (r.flags & (kTcpPsh | kTcpFin)) ||
             (!s.df && id != uint16_t(r.last_id + 1)) || r.segs >= h.max_segs ||
             s.fit_base + r.bytes + len > (s.udp ? h.limit_udp : h.limit_tcp) ||
             h.held >= h.max_held);
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
    t_->Revive(f, now_);
    f->nruns = 1;
    FirstOfRun(h, &f->run0, s, m, d, len, id);
    return Fast::kHeld;
  }

  // m (payload `len`, IP ID `id`) as the only packet of run r, held: what
  // Engine::StartRun() sets for it.
  static void FirstOfRun(Hot& h, Run* r, const Shape& s, rte_mbuf* m,
                         const uint8_t* d, uint32_t len, uint16_t id) {
    const uint32_t l4 = s.layout.l4_off;
    r->head = r->tail = m;
    r->start = s.udp ? 0 : Be32(d + l4 + 4);
    r->end = r->start + len;
    r->bytes = len;
    r->segs = 1;
    r->nsegs = 1;
    r->mss = r->last_len = uint16_t(len);
    r->first_id = r->last_id = id;
    r->outer_first_id = r->outer_last_id = 0;
    r->flags = s.udp ? 0 : d[l4 + 13];
    r->last_mf = 0;
    h.held++;
    h.packets++;
    h.bytes += len + s.hdr_len;
  }

  // Take() for a packet of live flow f that does not simply extend its
  // only run (see fast_path.cc).
  __attribute__((noinline)) Fast OffRun(Hot& h, Flow* f, const Shape& s,
                                        rte_mbuf* m, const uint8_t* d,
                                        uint32_t len, uint16_t id, Output* out);

  // For a packet whose ol_flags are not the plain case (no aggregation,
  // and with verification on a GOOD verdict): whether the full path would
  // treat it as a mergeable packet of shape `s` -- never an aggregated one;
  // with verification, what ChecksumsOk() answers (the verdict if it is
  // conclusive, else the checksums in software).
  __attribute__((noinline)) bool FlagsOk(const rte_mbuf* m,
                                         const Shape& s) const {
    if (m->ol_flags & kPreAggregated) return false;
    return !c_->cfg_.verify_checksums ||
           s.layout.mode != uint8_t(Mode::kMerge) ||
           PlainChecksumsOk(m, s.layout.l3_off, s.layout.is_v6, s.layout.l4_off,
                            s.udp ? IPPROTO_UDP : IPPROTO_TCP);
  }

  // The full rules for a packet Take() answered kRules for: what Parse()
  // would produce is known from the flow (key, attributes, layout) and a
  // few fixed offsets, so no parse.  Returns the flow holding m, or kNil.
  uint32_t Rules(Hot& h, Flow* f, rte_mbuf* m, Mode mode, uint64_t now,
                 Output* out);

  void Chunk(rte_mbuf* const* pkts, uint16_t n, Mode mode, uint64_t now,
             Output* out);
  // `max_held`: Hot::max_held (0 while fragment flows are held: then
  // nothing streams).
  uint16_t Stream(Flow* f, rte_mbuf* const* pkts, uint16_t i, uint16_t n,
                  uint8_t md, uint32_t max_held, Output* out, bool* ended);
  // Stream()'s loop for pkts[0..budget) (Stream() worked out the budget:
  // segments, held packets, bytes); returns how many it took.
  template <bool kUdp, bool kList, bool kCheckId, bool kWide>
  uint32_t StreamT(Flow* f, const Shape& s, rte_mbuf* const* pkts,
                   uint32_t budget);
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
  uint64_t now_ = 0;    // the burst's timestamp (revived flows start then)
  bool timed_ = false;  // now_ is known (not in ContinueFlow)
  rte_mbuf* const* pf_ = nullptr;
  rte_mbuf* const* pf_end_ = nullptr;
  uint64_t packets_ = 0, bytes_ = 0;  // fast-path counters, stored once
};

// rte_mbuf fields read and written together (one 8-byte access each).
static_assert(offsetof(rte_mbuf, nb_segs) == offsetof(rte_mbuf, data_off) + 4 &&
              offsetof(rte_mbuf, port) == offsetof(rte_mbuf, data_off) + 6);
static_assert(offsetof(rte_mbuf, data_len) == offsetof(rte_mbuf, pkt_len) + 4);

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_FAST_PATH_H_
