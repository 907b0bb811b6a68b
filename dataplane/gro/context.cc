// Per-packet decisions (hold, merge, link, flush, pass) over the flow
// table, and the Context around them.  The rules are in rules.cc (see
// engine.h), emitting in flush.cc, the fast path in fast_path.cc.
#include "dataplane/gro/checksum.h"
#include "dataplane/gro/engine.h"
#include "dataplane/gro/fast_path.h"
#include "dataplane/gro/list.h"
#include "dataplane/gro/output.h"

namespace grod::gro {

const char* const kPassReasonNames[kPassReasonCount] = {
    "none",           "not_ip",         "truncated",     "bad_ip_header",
    "ip_length",      "eth_padding",    "bad_l4_header", "multi_segment",
    "unsupported_l4", "type_disabled",  "tcp_flags",     "no_payload",
    "duplicate",      "bad_checksum",   "bypass",        "udp_zero_checksum",
    "aggregated",     "hash_collision",
};
const char* const kFlushReasonNames[kFlushReasonCount] = {
    "timeout",  "size",      "flags",    "table_full",
    "explicit", "config",    "mismatch", "passthrough",
    "reorder",  "burst_end", "pressure", "pair_order",
};

void Engine::Pass(rte_mbuf* m, const ParsedPacket& p, PassReason why,
                  Output* out) {
  c_->passthrough[why]++;
  c_->packets_out++;
  c_->segments_hist[0]++;
  if (p.key_valid) {
    // Keep the flow in order: what it holds leaves before this packet.
    if (t_->size() != 0) {
      Flow* f = t_->Find(p.key, p.hash);
      if (f != nullptr && f->nruns != 0) FlushFlow(f, kFlushPassthrough, out);
    }
    // Fully parsed (only its contents were unmergeable): describe it.
    SetMetadata(m, LayoutOf(p, Mode::kMerge));
  }
  Push(out, m);
}

// Called (Process) only when the packet may have to wait for its pair:
// it is a fragment or unparsed, or a fragment flow is live.
void Engine::OrderPair(const ParsedPacket& p, Output* out) {
  const bool frag = p.key_valid && p.type == kIpv4Frag;
  const bool frags = !frag && t_->frag_live() != 0;
  const bool others = frag || !p.key_valid;
  if (others) t_->CountOthers();
  const uint32_t tag = PairTag(p.key);
  if (!(frags && t_->PairMayHold(tag, true)) &&
      !(others && t_->PairMayHold(tag, false))) {
    return;
  }
  t_->ForEachOfPair(p.key, tag, frags, others,
                    [&](Flow* f) { FlushFlow(f, kFlushPairOrder, out); });
}

// Every fragment of the datagram is held: runs (sorted by offset) from 0
// without a gap to one without MF -- one run, or several that max_segments
// keeps apart.
bool Engine::FragmentsComplete(const Flow& f) const {
  for (int i = 0; i + 1 < f.nruns; ++i) {
    if (t_->run(&f, i).end != t_->run(&f, i + 1).start) return false;
  }
  return !t_->run(&f, f.nruns - 1).last_mf;
}

// Process() in steps.  always_inline: Process() runs for every packet the
// fast path does not take, and the split must not cost a call (callgrind
// instruction counts, docs/BENCHMARKS_GRO.md).

[[gnu::always_inline]] inline PassReason Engine::Verdict(const rte_mbuf* m,
                                                         const ParsedPacket& p,
                                                         Mode mode) {
  if (mode == Mode::kBypass) {
    c_->bypass++;
    return kPassBypass;
  }
  if (p.reason != kPassNone) return p.reason;
  const uint32_t need = p.type | (p.has_vni ? kVxlan : 0);
  if (m->ol_flags & kPreAggregated) return kPassAggregated;
  if ((cfg_.gro_types & need) != need) return kPassTypeDisabled;
  // Only MERGE rewrites checksums (and so would hide corruption); LIST
  // and BYPASS leave every byte as it came, for the receiver to check.
  if (mode == Mode::kMerge && cfg_.verify_checksums && !ChecksumsOk(m, p)) {
    return kPassBadChecksum;
  }
  return kPassNone;
}

[[gnu::always_inline]] inline bool Engine::AddToLive(Flow* f, rte_mbuf* m,
                                                     const ParsedPacket& p,
                                                     Output* out) {
  // A flow without a template gets one with its second packet (see
  // StartFlow).  m is compatible: its headers are as good as the first's.
  // Never from a PSH/FIN segment: the flow is emitted with it, and a
  // template with PSH would let the fast path revive the idle entry with
  // (and hold) a later PSH segment, which must leave at once.
  if (f->shape == kNoShape && !(p.tcp_flags & (kTcpPsh | kTcpFin))) {
    const FlowCold& c = t_->cold(f);
    t_->SetTemplate(f, m, c.layout, c.attrs);
  }
  const AddResult res =
      p.type & (kUdp4 | kUdp6) ? AddUdp(f, m, p) : AddSeq(f, m, p);
  switch (res) {
    case AddResult::kAdded:
      break;
    case AddResult::kDuplicate:
      Pass(m, p, kPassDuplicate, out);  // flushes the flow first
      return false;
    case AddResult::kNoFit:
      FlushFlow(f, kFlushSize, out);
      break;
    case AddResult::kTooManyRuns:
    case AddResult::kOutOfOrder:
      FlushFlow(f, kFlushReorder, out);
      break;
  }
  return true;
}

[[gnu::always_inline]] inline Flow* Engine::StartFlow(Flow* f, rte_mbuf* m,
                                                      const ParsedPacket& p,
                                                      Mode mode, uint64_t now,
                                                      Output* out) {
  if (p.tcp_flags & (kTcpPsh | kTcpFin)) {
    // Nothing held for the flow and the sender says "deliver now".
    c_->packets_out++;
    c_->single_out++;
    c_->segments_hist[0]++;
    SetMetadata(m, LayoutOf(p, mode));
    Push(out, m);
    return nullptr;
  }
  if (t_->full()) FlushFlow(t_->oldest(), kFlushTableFull, out);
  const bool idle = f != nullptr && FlowTable::IsIdle(f);
  // A header template (fast path; an idle entry once emitted) right away,
  // unless most flows lately held one packet: then only with the flow's
  // second packet, so one-packet flows don't churn templates and idle
  // entries.
  const bool template_now = idle || !t_->lazy_templates();
  if (idle) {
    t_->Revive(f, now);
    t_->DropShape(f);  // layout/attributes may differ: a new template
  } else if ((f = t_->Insert(p.key, p.hash, now)) == nullptr) {
    // No slot near its home (flooding): nothing of its flow is held
    // (it has no entry), so it passes at once.
    Pass(m, p, kPassHashCollision, out);
    return nullptr;
  }
  FlowCold& c = t_->cold(f);
  c.attrs = p.attrs;
  c.layout = LayoutOf(p, mode);
  StartRun(f, 0, m, p);
  // (With verification on, the fast path takes only packets whose NIC
  // checksum verdict is GOOD: see FastPath.)
  if (template_now) {
    t_->SetTemplate(f, m, c.layout, c.attrs);
  }
  return f;
}

[[gnu::always_inline]] inline Flow* Engine::EmitIfDone(Flow* f,
                                                       const ParsedPacket& p,
                                                       Output* out) {
  if (p.tcp_flags & (kTcpPsh | kTcpFin)) {
    FlushFlow(f, kFlushFlags, out);
    return nullptr;
  }
  const Run& r0 = f->run0;
  const uint8_t type = p.type;
  if (type == kIpv4Frag && r0.start == 0 && FragmentsComplete(*f)) {
    FlushFlow(f, kFlushFlags, out);  // datagram complete
    return nullptr;
  }
  // In-order flow that can't grow (full, or ended by a short segment):
  // deliver now rather than at the timeout.
  // (A TCP or UDP flow holds one run.)
  if (type != kIpv4Frag &&
      (r0.segs >= cfg_.max_segments || r0.last_len < r0.mss)) {
    FlushFlow(f, kFlushSize, out);
    return nullptr;
  }
  return f;
}

Flow* Engine::Process(rte_mbuf* m, const ParsedPacket& p, Mode mode,
                      uint64_t now, Output* out, Flow* entry) {
  c_->packets_in++;
  c_->bytes_in += m->pkt_len;
  // OrderPair()'s no-op case decided here: a plain packet while no
  // fragment flow is live, without a call (most packets of most flows).
  if (p.pair_valid && t_->size() != 0 &&
      (t_->frag_live() != 0 || !p.key_valid || p.type == kIpv4Frag)) {
    OrderPair(p, out);
  }
  if (PassReason why = Verdict(m, p, mode)) {
    Pass(m, p, why, out);
    return nullptr;
  }
  // Make room first, so that no flow pointer is invalidated later.
  if (t_->held_packets >= cfg_.max_held_packets) {
    FlushFlow(t_->oldest(), kFlushTableFull, out);
  }
  // The flow's entry: live, idle (emitted, key and template kept), or
  // none.  There is never more than one entry per key.
  Flow* f = entry != nullptr     ? entry
            : t_->entries() != 0 ? t_->Find(p.key, p.hash)
                                 : nullptr;
  if (f != nullptr && f->nruns != 0 && !Compatible(*f, p, m, mode)) {
    FlushFlow(f, kFlushMismatch, out);
  }
  if (f != nullptr && f->nruns != 0 && !AddToLive(f, m, p, out)) {
    return nullptr;
  }
  if (f == nullptr || f->nruns == 0) {  // a new flow (or flushed above)
    if ((f = StartFlow(f, m, p, mode, now, out)) == nullptr) return nullptr;
  }
  t_->held_packets++;
  return EmitIfDone(f, p, out);
}

Context::Context(const ContextConfig& cfg) : cfg_(cfg) {}

std::unique_ptr<Context> Context::Create(const ContextConfig& cfg) {
  if (!RegisterDynfield()) return nullptr;
  std::unique_ptr<Context> c(new Context(cfg));
  if (c->cfg_.max_segments == 0 || c->cfg_.max_segments > 64) {
    c->cfg_.max_segments = 64;
  }
  if (c->cfg_.max_held_packets == 0) c->cfg_.max_held_packets = 1;
  FastPath::SetRxFlags(c.get());
  c->table_ = FlowTable::Create(cfg.max_flows, cfg.socket_id, cfg.hash_seed);
  if (c->table_ == nullptr) return nullptr;
  return c;
}

Context::~Context() {
  if (table_ == nullptr) return;
  // Held packets are dropped (freed), never leaked.
  while (Flow* f = table_->oldest()) {
    const bool list = table_->layout(f).mode == uint8_t(Mode::kList);
    for (int i = 0; i < f->nruns; ++i) {
      const Run& r = table_->run(f, i);
      if (list) {
        rte_mbuf* m = r.head;
        for (uint16_t k = 0; k < r.segs; ++k) {
          rte_mbuf* next = k + 1 < r.segs ? internal::Link(m)->next : nullptr;
          rte_pktmbuf_free(m);
          m = next;
        }
      } else {
        rte_pktmbuf_free(r.head);  // follows `next`; nb_segs is not needed
      }
    }
    table_->Retire(f);
  }
  FlowTable::Destroy(table_);
}

void Context::Process(rte_mbuf* m, const ParsedPacket& p, Mode mode,
                      uint64_t now_tsc, Output* out) {
  Flow* f = Engine(cfg_, table_, &counters_).Process(m, p, mode, now_tsc, out);
  last_flow_ = f != nullptr ? table_->index(f) : kNil;
  streaming_ = false;
}

void Context::ProcessBurst(rte_mbuf* const* pkts, const ParsedPacket* p,
                           uint16_t n, Mode mode, uint64_t now_tsc,
                           Output* out) {
  // Prefetch in stages -- slot, flow entry, held tail mbuf -- a few packets
  // ahead, so that with many flows the table's cache misses overlap.
  constexpr uint16_t kFlowAhead = 6, kRunAhead = 3;
  const bool any = table_->entries() != 0;
  if (any) {
    for (uint16_t i = 0; i < n; ++i) table_->PrefetchSlot(p[i].hash);
    for (uint16_t i = 0; i < n && i < kFlowAhead; ++i) {
      table_->PrefetchFlow(p[i].hash, true);
    }
  }
  Engine e(cfg_, table_, &counters_);
  Flow* f = nullptr;
  for (uint16_t i = 0; i < n; ++i) {
    if (any && i + kFlowAhead < n) {
      table_->PrefetchFlow(p[i + kFlowAhead].hash, true);
    }
    if (any && i + kRunAhead < n) table_->PrefetchRun(p[i + kRunAhead].hash);
    f = e.Process(pkts[i], p[i], mode, now_tsc, out);
  }
  if (n != 0) last_flow_ = f != nullptr ? table_->index(f) : kNil;
  streaming_ = false;
}

namespace {
bool IsLive(const Flow* f) { return f != nullptr && f->nruns != 0; }
}  // namespace

void Context::ProcessAlone(rte_mbuf* m, Mode mode, FlushReason reason,
                           Output* out) {
  ParsedPacket p;
  Parse(m, ParseConfig{cfg_.vxlan_port}, &p);
  const uint32_t need = p.type | (p.has_vni ? kVxlan : 0);
  // The cases where Process() would not hold it as a new one-packet flow
  // to emit at the flush: passes, PSH/FIN, complete at once, no room.
  if (mode == Mode::kBypass || p.reason != kPassNone ||
      (m->ol_flags & kPreAggregated) || table_->frag_live() != 0 ||
      (cfg_.gro_types & need) != need || p.type == kIpv4Frag ||
      (p.tcp_flags & (kTcpPsh | kTcpFin)) || cfg_.max_segments <= 1 ||
      table_->held_packets >= cfg_.max_held_packets || table_->full() ||
      (table_->size() != 0 && IsLive(table_->Find(p.key, p.hash))) ||
      (mode == Mode::kMerge && cfg_.verify_checksums && !ChecksumsOk(m, p))) {
    Process(m, p, mode, 0, out);
    return;
  }
  // Held and flushed at once: the flush's own emit path and counters.
  counters_.packets_in++;
  counters_.bytes_in += m->pkt_len;
  counters_.flushes[reason]++;
  Run r{};
  r.head = r.tail = m;
  r.segs = 1;
  Engine(cfg_, table_, &counters_).EmitRun(LayoutOf(p, mode), r, out);
  table_->NoteRetired(true);
}

uint32_t Context::held_flows() const { return table_->size(); }
bool Context::mostly_single_packet_flows() const {
  return table_->lazy_templates();
}
uint32_t Context::held_packets() const { return table_->held_packets; }

}  // namespace grod::gro
