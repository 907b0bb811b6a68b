// The fast path: a packet of a held flow is recognized by comparing its
// header bytes with the flow's template under its shape's mask (see Shape in
// flow_table.h) and appended without a parse or a key lookup.  Equality
// under the mask, the length checks and the run checks below are exactly
// the conditions under which Parse() + Engine::Process() would append the
// packet at the end of the flow's only run; anything else takes that full
// path, which stays the single definition of every rule.
#include "dataplane/gro/fast_path.h"

namespace grod::gro {

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
  p.pair_valid = true;
  p.type = l.type;
  p.is_v6 = l.is_v6;
  p.l4_proto = l.proto;
  p.tcp_flags = s.udp ? 0 : d[l.l4_off + 13];
  p.ecn = c.attrs.tos & 3;
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

// What Engine::Process() does with a packet of live flow f (template
// matched, lengths and flags checked) that does not simply extend f's one
// run, where that needs no parse: the template proves key, attributes,
// layout and options equal, so no pass, no mismatch and no new template.
// f is emitted first -- not the next in sequence (kFlushReorder), or a
// rule says no (kFlushSize) -- and m starts it again, in the same entry,
// with the same template: in both modes, a TCP flow holds one run
// (AddSeq).  Left to the rules: a duplicate (overlapping the held run:
// passed), the held limit reached (the oldest flow is flushed first) or
// fragment flows held (h.max_held is 0 then: order across tables),
// max_segments 1, and a flush in ContinueFlow() (no timestamp to revive
// the entry with).
Fast FastPath::OffRun(Hot& h, Flow* f, const Shape& s, rte_mbuf* m,
                      const uint8_t* d, uint32_t len, uint16_t id,
                      Output* out) {
  if (h.held >= h.max_held || h.max_segs <= 1) return Fast::kRules;
  Run& r = f->run0;
  bool next = true;  // m starts where run0 ends
  if (!s.udp) {
    const uint32_t seq = Be32(d + s.layout.l4_off + 4);
    if (SeqLt(seq, r.end) && SeqLt(r.start, seq + len)) return Fast::kRules;
    next = seq == r.end;
  }
  // (Take() calls this only when m is not the next in sequence or Fits()
  // says no.)
  if (!timed_) return Fast::kRules;
  SyncOut(h);
  e_.FlushFlow(f, next ? kFlushSize : kFlushReorder, out);
  t_->Revive(f, now_);
  SyncHeld(h);
  f->nruns = 1;
  FirstOfRun(h, &r, s, m, d, len, id);
  return Fast::kHeld;
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
  timed_ = true;
  if (cur != kNil && t_->flow(cur)->shape == kNoShape) cur = kNil;
  uint16_t i = 0;
  // The last burst ended streaming this flow: one flow at a time, this
  // one most likely goes on with it, so skip the one-packet probe below.
  if (cur != kNil && c_->streaming_) {
    bool ended;
    i = Stream(t_->flow(cur), pkts, 0, n, md, MaxHeld(), out, &ended);
    // The whole burst went on with it (Stream() keeps the table's counts):
    // done, without loading Hot -- per burst, the fast path's common case
    // at one flow.  (last_flow_ stays cur; emitted, the entry is idle.)
    if (i == n) {
      c_->streaming_ = !ended;
      return;
    }
  }
  Hot h = Load(md);
  bool streamed = false;  // the burst's last packet went to Stream()
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
      i = Stream(f, pkts, uint16_t(i + 1), n, md, h.max_held, out, &ended);
      SyncHeld(h);
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
  Hot h = Load(md);
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
      hash[i] = slots.Key(hash[i]);
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
    i = Stream(f, pkts, i, n, md, MaxHeld(), out, &ended);
    if (ended) {
      c_->last_flow_ = kNil;
      break;
    }
    if (i == n) break;
    // Not for the streaming loop (long headers, ...): the generic path.
    if (f->nruns == 0) break;
    Hot h = Load(md);
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
