// The GRO engine proper: per-packet decisions (hold, merge, link, flush,
// pass) over the flow table.  Merge rules, written once for all types:
//   * same flow key (Parse) and equal FlowAttrs/Layout/option bytes, else
//     the held flow is flushed first (kFlushMismatch) -- never two entries
//     for one 5-tuple, so a flow can't be reordered by its own entries;
//   * adjacency in sequence space (TCP seq, fragment offset) -- a packet may
//     extend a run at either end, and two runs join when the gap fills;
//   * TCP/UDP: every packet but the last of a run carries `mss` bytes
//     (Segment() must be able to reproduce them), at most max_segments,
//     merged length within max_merged_bytes;
//   * IPv4 with DF=0: IDs increment by one along the run (RFC 6864), inner
//     and outer separately; DF=1 IDs are ignored.
#include <netinet/in.h>

#include "dataplane/gro/checksum.h"
#include "dataplane/gro/flow_table.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/list.h"
#include "dataplane/gro/output.h"

namespace grod::gro {

const char* const kPassReasonNames[kPassReasonCount] = {
    "none",           "not_ip",        "truncated",     "bad_ip_header",
    "ip_length",      "eth_padding",   "bad_l4_header", "multi_segment",
    "unsupported_l4", "type_disabled", "tcp_flags",     "no_payload",
    "duplicate",      "bad_checksum",  "bypass",
};
const char* const kFlushReasonNames[kFlushReasonCount] = {
    "timeout", "size",     "flags",       "table_full", "explicit",
    "config",  "mismatch", "passthrough", "reorder",    "burst_end",
};

namespace {

constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08;

inline bool SeqLt(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

inline int HistBucket(uint32_t segs) {
  return static_cast<int>(grod::SegmentBucketIndex(segs));
}

// rte_pktmbuf_lastseg() reads `next`, in the mbuf's second cache line,
// which RX never touches; nb_segs (first line) usually answers.
inline rte_mbuf* LastSeg(rte_mbuf* m) {
  return m->nb_segs == 1 ? m : rte_pktmbuf_lastseg(m);
}

enum class AddResult { kAdded, kDuplicate, kNoFit, kTooManyRuns };

// Stateless helpers bound to one context's config, table and counters.
class Engine {
 public:
  Engine(const ContextConfig& cfg, FlowTable* t, Counters* c)
      : cfg_(cfg), t_(t), c_(c) {
    limit_ = cfg.max_merged_bytes < 65535 ? cfg.max_merged_bytes : 65535;
  }

  void Process(rte_mbuf* m, const ParsedPacket& p, Mode mode, uint64_t now,
               Output* out);
  void FlushFlow(Flow* f, FlushReason why, Output* out);

 private:
  void Pass(rte_mbuf* m, const ParsedPacket& p, PassReason why, Output* out);
  bool Compatible(const Flow& f, const ParsedPacket& p, const rte_mbuf* m,
                  Mode mode) const;
  AddResult AddSeq(Flow* f, rte_mbuf* m, const ParsedPacket& p);
  AddResult AddUdp(Flow* f, rte_mbuf* m, const ParsedPacket& p);
  bool Fits(const Flow& f, uint32_t bytes, uint32_t segs) const;
  bool CanAppend(const Flow& f, const Run& r, const ParsedPacket& p) const;
  bool CanPrepend(const Flow& f, const Run& r, const ParsedPacket& p) const;
  void Append(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p);
  void Prepend(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p);
  void TryJoin(Flow* f, int i);
  void StartRun(Flow* f, int i, rte_mbuf* m, const ParsedPacket& p);
  void EmitRun(const Flow& f, const Run& r, Output* out);

  const ContextConfig& cfg_;
  FlowTable* t_;
  Counters* c_;
  uint32_t limit_;
};

bool Engine::Fits(const Flow& f, uint32_t bytes, uint32_t segs) const {
  const Layout& l = f.layout;
  // Bytes covered by the outermost IP length field besides the payload.
  const uint32_t base = l.vxlan ? l.outer_l3_off + (l.outer_is_v6 ? 40 : 0)
                                : l.l3_off + (l.is_v6 ? 40 : 0);
  // max_segments bounds what a GSO engine must re-split; a reassembled
  // datagram is bounded by its 64K length alone (as in ip_defrag).
  return (segs <= cfg_.max_segments || l.type == kIpv4Frag) &&
         l.payload_off - base + bytes <= limit_;
}

bool Engine::Compatible(const Flow& f, const ParsedPacket& p, const rte_mbuf* m,
                        Mode mode) const {
  // Field by field: a Layout built on the stack and compared wide would
  // stall on store forwarding.
  const Layout& l = f.layout;
  if (l.payload_off != p.payload_off || l.l4_off != p.l4_off ||
      l.l3_off != p.l3_off || l.l2_off != p.l2_off || l.mode != uint8_t(mode) ||
      l.vxlan != p.has_vni ||
      (l.vxlan &&
       (l.outer_l3_off != p.outer_l3_off || l.outer_l4_off != p.outer_l4_off ||
        l.outer_is_v6 != p.outer_is_v6)) ||
      memcmp(&p.attrs, &f.attrs, sizeof(p.attrs)) != 0) {
    return false;  // type/proto/version are part of the key
  }
  // IPv4 and TCP option bytes must be identical (Linux, DPDK): compare the
  // bytes between the fixed headers and the payload with the held head,
  // whose headers are always intact.  Only then is the head touched.
  const bool ip_opts = !p.is_v6 && l.l4_off - l.l3_off > 20;
  const bool outer_opts =
      l.vxlan && !l.outer_is_v6 && l.outer_l4_off - l.outer_l3_off > 20;
  if (!ip_opts && !outer_opts && p.attrs.opt_len == 0) return true;
  const uint8_t* a = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* b = rte_pktmbuf_mtod(f.runs[0].head, const uint8_t*);
  if (ip_opts &&
      memcmp(a + l.l3_off + 20, b + l.l3_off + 20, l.l4_off - l.l3_off - 20)) {
    return false;
  }
  if (p.attrs.opt_len != 0 &&
      memcmp(a + l.l4_off + 20, b + l.l4_off + 20, p.attrs.opt_len) != 0) {
    return false;
  }
  if (outer_opts && memcmp(a + l.outer_l3_off + 20, b + l.outer_l3_off + 20,
                           l.outer_l4_off - l.outer_l3_off - 20) != 0) {
    return false;
  }
  return true;
}

bool Engine::CanAppend(const Flow& f, const Run& r,
                       const ParsedPacket& p) const {
  const uint32_t len = p.payload_len;
  if (f.layout.type == kIpv4Frag) {
    if (!r.last_mf) return false;
  } else {
    if (r.last_len != r.mss || len > r.mss) return false;
    if (r.flags & (kTcpPsh | kTcpFin)) return false;
    if (!f.attrs.df && p.ip_id != uint16_t(r.last_id + 1)) return false;
  }
  if (f.layout.vxlan && !f.attrs.outer_df &&
      p.outer_ip_id != uint16_t(r.outer_last_id + 1)) {
    return false;
  }
  return Fits(f, r.bytes + len, r.segs + 1u);
}

bool Engine::CanPrepend(const Flow& f, const Run& r,
                        const ParsedPacket& p) const {
  const uint32_t len = p.payload_len;
  if (f.layout.type == kIpv4Frag) {
    if (!p.more_frags) return false;
  } else {
    // The new first packet defines the MSS of the whole run.
    if (r.segs == 1 ? r.mss > len : r.mss != len) return false;
    // PSH/FIN end a merge (Linux): they may not land mid-packet, where
    // re-segmentation could not put them back.
    if (p.tcp_flags & (kTcpPsh | kTcpFin)) return false;
    if (!f.attrs.df && uint16_t(p.ip_id + 1) != r.first_id) return false;
  }
  if (f.layout.vxlan && !f.attrs.outer_df &&
      uint16_t(p.outer_ip_id + 1) != r.outer_first_id) {
    return false;
  }
  return Fits(f, r.bytes + len, r.segs + 1u);
}

// Zero-copy chaining: `tail_of_a` is the last mbuf segment of a chain whose
// first segment is `a`; b's headers are cut off before it is linked.
inline void Chain(rte_mbuf* a, rte_mbuf* tail_of_a, rte_mbuf* b,
                  uint16_t b_hdr) {
  rte_pktmbuf_adj(b, b_hdr);
  tail_of_a->next = b;
  a->nb_segs += b->nb_segs;
  a->pkt_len += b->pkt_len;
}

void Engine::Append(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p) {
  if (f->layout.mode == uint8_t(Mode::kList)) {
    internal::Link(r->tail)->next = m;
    internal::Link(m)->next = nullptr;
    r->tail = m;
  } else {
    Chain(r->head, r->tail, m, f->layout.payload_off);
    r->tail = LastSeg(m);
  }
  r->end += p.payload_len;
  r->bytes += p.payload_len;
  r->segs++;
  r->last_len = p.payload_len;
  r->last_id = p.ip_id;
  r->outer_last_id = p.outer_ip_id;
  r->flags |= p.tcp_flags;
  r->last_mf = p.more_frags;
}

void Engine::Prepend(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p) {
  if (f->layout.mode == uint8_t(Mode::kList)) {
    internal::Link(m)->next = r->head;
  } else {
    Chain(m, LastSeg(m), r->head, f->layout.payload_off);
  }
  r->head = m;
  r->start = p.seq;
  r->bytes += p.payload_len;
  r->segs++;
  r->mss = p.payload_len;
  r->first_id = p.ip_id;
  r->outer_first_id = p.outer_ip_id;
  r->flags |= p.tcp_flags;
}

void Engine::TryJoin(Flow* f, int i) {
  if (i + 1 >= f->nruns) return;
  Run& a = f->runs[i];
  Run& b = f->runs[i + 1];
  if (a.end != b.start || (a.flags & (kTcpPsh | kTcpFin))) return;
  if (f->layout.type == kIpv4Frag) {
    if (!a.last_mf) return;
  } else {
    if (a.last_len != a.mss) return;
    if (b.segs == 1 ? b.mss > a.mss : b.mss != a.mss) return;
    if (!f->attrs.df && uint16_t(a.last_id + 1) != b.first_id) return;
  }
  if (f->layout.vxlan && !f->attrs.outer_df &&
      uint16_t(a.outer_last_id + 1) != b.outer_first_id) {
    return;
  }
  if (!Fits(*f, a.bytes + b.bytes, uint32_t(a.segs) + b.segs)) return;
  if (f->layout.mode == uint8_t(Mode::kList)) {
    internal::Link(a.tail)->next = b.head;
  } else {
    Chain(a.head, a.tail, b.head, f->layout.payload_off);
  }
  a.tail = b.tail;
  a.end = b.end;
  a.bytes += b.bytes;
  a.segs += b.segs;
  a.last_len = b.last_len;
  a.last_id = b.last_id;
  a.outer_last_id = b.outer_last_id;
  a.flags |= b.flags;
  a.last_mf = b.last_mf;
  for (int j = i + 1; j + 1 < f->nruns; ++j) f->runs[j] = f->runs[j + 1];
  f->nruns--;
}

void Engine::StartRun(Flow* f, int i, rte_mbuf* m, const ParsedPacket& p) {
  for (int j = f->nruns; j > i; --j) f->runs[j] = f->runs[j - 1];
  f->nruns++;
  Run& r = f->runs[i];
  r.head = m;
  if (f->layout.mode == uint8_t(Mode::kList)) {
    internal::Link(m)->next = nullptr;
    r.tail = m;
  } else {
    r.tail = LastSeg(m);
  }
  r.start = p.seq;
  r.end = p.seq + p.payload_len;
  r.bytes = p.payload_len;
  r.segs = 1;
  r.mss = r.last_len = p.payload_len;
  r.first_id = r.last_id = p.ip_id;
  r.outer_first_id = r.outer_last_id = p.outer_ip_id;
  r.flags = p.tcp_flags;
  r.last_mf = p.more_frags;
}

AddResult Engine::AddSeq(Flow* f, rte_mbuf* m, const ParsedPacket& p) {
  const uint32_t s = p.seq, e = p.seq + p.payload_len;
  int i = 0;
  for (; i < f->nruns; ++i) {
    Run& r = f->runs[i];
    if (SeqLt(s, r.end) && SeqLt(r.start, e)) return AddResult::kDuplicate;
    if (r.end == s) {
      if (!CanAppend(*f, r, p)) return AddResult::kNoFit;
      Append(f, &r, m, p);
      TryJoin(f, i);
      return AddResult::kAdded;
    }
    if (e == r.start) {
      if (!CanPrepend(*f, r, p)) return AddResult::kNoFit;
      Prepend(f, &r, m, p);
      return AddResult::kAdded;
    }
    if (SeqLt(s, r.start)) break;
  }
  if (f->nruns == kMaxRuns) return AddResult::kTooManyRuns;
  StartRun(f, i, m, p);
  return AddResult::kAdded;
}

// UDP datagrams have no sequence number: arrival order is the order, so a
// flow has a single run that only grows at the end.
AddResult Engine::AddUdp(Flow* f, rte_mbuf* m, const ParsedPacket& p) {
  Run& r = f->runs[0];
  if (!CanAppend(*f, r, p)) return AddResult::kNoFit;
  Append(f, &r, m, p);
  return AddResult::kAdded;
}

void Engine::EmitRun(const Flow& f, const Run& r, Output* out) {
  c_->packets_out++;
  c_->segments_hist[HistBucket(r.segs)]++;
  if (r.segs == 1) {
    SetMetadata(r.head, f.layout);
  } else if (f.layout.mode == uint8_t(Mode::kList)) {
    FinalizeList(f, r);
    c_->list_out++;
    c_->segments_listed += r.segs;
  } else {
    FinalizeMerged(f, r);
    c_->merged_out++;
    c_->segments_merged += r.segs;
  }
  Push(out, r.head);
}

void Engine::FlushFlow(Flow* f, FlushReason why, Output* out) {
  c_->flushes[why]++;
  for (int i = 0; i < f->nruns; ++i) EmitRun(*f, f->runs[i], out);
  t_->held_packets -= f->held;
  t_->Remove(f);
}

void Engine::Pass(rte_mbuf* m, const ParsedPacket& p, PassReason why,
                  Output* out) {
  c_->passthrough[why]++;
  c_->packets_out++;
  c_->segments_hist[0]++;
  if (p.key_valid) {
    // Keep the flow in order: what it holds leaves before this packet.
    if (t_->size() != 0) {
      if (Flow* f = t_->Find(p.key, p.hash)) {
        FlushFlow(f, kFlushPassthrough, out);
      }
    }
    // Fully parsed (only its contents were unmergeable): describe it.
    SetMetadata(m, LayoutOf(p, Mode::kMerge));
  }
  Push(out, m);
}

void Engine::Process(rte_mbuf* m, const ParsedPacket& p, Mode mode,
                     uint64_t now, Output* out) {
  c_->packets_in++;
  c_->bytes_in += m->pkt_len;
  PassReason why = p.reason;
  if (mode == Mode::kBypass) {
    c_->bypass++;
    why = kPassBypass;
  } else if (why == kPassNone) {
    const uint32_t need = p.type | (p.has_vni ? kVxlan : 0);
    if ((cfg_.gro_types & need) != need) {
      why = kPassTypeDisabled;
    } else if (cfg_.verify_checksums && !ChecksumsOk(m, p)) {
      why = kPassBadChecksum;
    }
  }
  if (why != kPassNone) return Pass(m, p, why, out);

  // Make room first, so that no flow pointer is invalidated later.
  if (t_->held_packets >= cfg_.max_held_packets) {
    FlushFlow(t_->oldest(), kFlushTableFull, out);
  }
  Flow* f = t_->size() != 0 ? t_->Find(p.key, p.hash) : nullptr;
  if (f != nullptr && !Compatible(*f, p, m, mode)) {
    FlushFlow(f, kFlushMismatch, out);
    f = nullptr;
  }
  if (f != nullptr) {
    const AddResult res =
        p.type & (kUdp4 | kUdp6) ? AddUdp(f, m, p) : AddSeq(f, m, p);
    switch (res) {
      case AddResult::kAdded:
        break;
      case AddResult::kDuplicate:
        return Pass(m, p, kPassDuplicate, out);  // flushes the flow first
      case AddResult::kNoFit:
        FlushFlow(f, kFlushSize, out);
        f = nullptr;
        break;
      case AddResult::kTooManyRuns:
        FlushFlow(f, kFlushReorder, out);
        f = nullptr;
        break;
    }
  }
  const bool push_fin = p.tcp_flags & (kTcpPsh | kTcpFin);
  if (f == nullptr) {
    if (push_fin) {
      // Nothing held for the flow and the sender says "deliver now".
      c_->packets_out++;
      c_->segments_hist[0]++;
      SetMetadata(m, LayoutOf(p, mode));
      return Push(out, m);
    }
    if (t_->full()) FlushFlow(t_->oldest(), kFlushTableFull, out);
    f = t_->Insert(p.key, p.hash, now);
    f->attrs = p.attrs;
    f->layout = LayoutOf(p, mode);
    f->nruns = 0;
    f->held = 0;
    StartRun(f, 0, m, p);
  }
  f->held++;
  t_->held_packets++;
  if (push_fin) return FlushFlow(f, kFlushFlags, out);
  const Run& r0 = f->runs[0];
  if (f->layout.type == kIpv4Frag && f->nruns == 1 && r0.start == 0 &&
      !r0.last_mf) {
    return FlushFlow(f, kFlushFlags, out);  // datagram complete
  }
  // In-order flow that can't grow (full, or ended by a short segment):
  // deliver now rather than at the timeout.
  if (f->nruns == 1 &&
      ((r0.segs >= cfg_.max_segments && f->layout.type != kIpv4Frag) ||
       (f->layout.type != kIpv4Frag && r0.last_len < r0.mss))) {
    return FlushFlow(f, kFlushSize, out);
  }
}

}  // namespace

Context::Context(const ContextConfig& cfg) : cfg_(cfg) {}

std::unique_ptr<Context> Context::Create(const ContextConfig& cfg) {
  if (!RegisterDynfield()) return nullptr;
  std::unique_ptr<Context> c(new Context(cfg));
  if (c->cfg_.max_segments == 0 || c->cfg_.max_segments > 64) {
    c->cfg_.max_segments = 64;
  }
  if (c->cfg_.max_held_packets == 0) c->cfg_.max_held_packets = 1;
  c->table_ = FlowTable::Create(cfg.max_flows, cfg.socket_id);
  if (c->table_ == nullptr) return nullptr;
  return c;
}

Context::~Context() {
  if (table_ == nullptr) return;
  // Held packets are dropped (freed), never leaked.
  while (Flow* f = table_->oldest()) {
    for (int i = 0; i < f->nruns; ++i) {
      const Run& r = f->runs[i];
      if (f->layout.mode == uint8_t(Mode::kList)) {
        rte_mbuf* m = r.head;
        for (uint16_t k = 0; k < r.segs; ++k) {
          rte_mbuf* next = internal::Link(m)->next;
          rte_pktmbuf_free(m);
          m = next;
        }
      } else {
        rte_pktmbuf_free(r.head);
      }
    }
    table_->Remove(f);
  }
  FlowTable::Destroy(table_);
}

void Context::Process(rte_mbuf* m, const ParsedPacket& p, Mode mode,
                      uint64_t now_tsc, Output* out) {
  Engine(cfg_, table_, &counters_).Process(m, p, mode, now_tsc, out);
}

void Context::ProcessBurst(rte_mbuf* const* pkts, const ParsedPacket* p,
                           uint16_t n, Mode mode, uint64_t now_tsc,
                           Output* out) {
  // Prefetch in stages -- slot, flow entry, held mbufs -- a few packets
  // ahead, so that with many flows the table's cache misses overlap.
  constexpr uint16_t kFlowAhead = 6, kRunAhead = 3;
  const bool any = table_->size() != 0;
  if (any) {
    for (uint16_t i = 0; i < n; ++i) table_->PrefetchSlot(p[i].hash);
    for (uint16_t i = 0; i < n && i < kFlowAhead; ++i) {
      table_->PrefetchFlow(p[i].hash);
    }
  }
  Engine e(cfg_, table_, &counters_);
  for (uint16_t i = 0; i < n; ++i) {
    if (any && i + kFlowAhead < n) table_->PrefetchFlow(p[i + kFlowAhead].hash);
    if (any && i + kRunAhead < n) table_->PrefetchRun(p[i + kRunAhead].hash);
    e.Process(pkts[i], p[i], mode, now_tsc, out);
  }
}

namespace {

// Flushing walks flows in creation order; with many flows their entries,
// head mbufs and headers are all cold.  Prefetch two flows ahead: the entry
// of the second, the head mbuf and first header line of the first.
inline void PrefetchFlush(const FlowTable& t, const Flow* f) {
  const Flow* a = t.newer(f);
  if (a == nullptr) return;
  if (const Flow* b = t.newer(a)) {
    rte_prefetch0(b);
    rte_prefetch0(reinterpret_cast<const char*>(b) + 128);
  }
  rte_mbuf* h = a->runs[0].head;
  rte_prefetch0(h);
  rte_prefetch0(reinterpret_cast<const char*>(h) + 64);
  rte_prefetch0(static_cast<char*>(h->buf_addr) + h->data_off);
}

}  // namespace

void Context::FlushTimedOut(uint64_t now_tsc, uint64_t max_age_tsc,
                            Output* out) {
  Engine e(cfg_, table_, &counters_);
  // Flows are in creation order, so the scan stops at the first young one.
  while (Flow* f = table_->oldest()) {
    if (now_tsc - f->start_tsc < max_age_tsc) break;
    PrefetchFlush(*table_, f);
    e.FlushFlow(f, kFlushTimeout, out);
  }
}

void Context::FlushAll(Output* out, FlushReason reason) {
  Engine e(cfg_, table_, &counters_);
  while (Flow* f = table_->oldest()) {
    PrefetchFlush(*table_, f);
    e.FlushFlow(f, reason, out);
  }
}

void Context::FlushFlowOf(const ParsedPacket& p, Output* out) {
  if (!p.key_valid || table_->size() == 0) return;
  if (Flow* f = table_->Find(p.key, p.hash)) {
    Engine(cfg_, table_, &counters_).FlushFlow(f, kFlushExplicit, out);
  }
}

uint32_t Context::held_flows() const { return table_->size(); }
uint32_t Context::held_packets() const { return table_->held_packets; }

}  // namespace grod::gro
