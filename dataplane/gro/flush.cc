// Emitting held flows: one output per run (a merged packet, a list, or a
// single packet), flush counters, and the Context flush entry points.
#include "dataplane/gro/engine.h"
#include "dataplane/gro/output.h"

namespace grod::gro {

void Engine::EmitRun(const Layout& l, const Run& r, Output* out) {
  c_->packets_out++;
  c_->segments_hist[grod::SegmentBucketIndex(r.segs)]++;
  if (r.segs == 1) {
    SetMetadata(r.head, l);
  } else if (l.mode == uint8_t(Mode::kList)) {
    FinalizeList(l, r);
    c_->list_out++;
    c_->segments_listed += r.segs;
  } else {
    FinalizeMerged(l, r);
    c_->merged_out++;
    c_->segments_merged += r.segs;
  }
  Push(out, r.head);
}

void Engine::FlushFlow(Flow* f, FlushReason why, Output* out) {
  c_->flushes[why]++;
  const Layout& l = t_->layout(f);
  uint32_t held = 0;
  for (int i = 0; i < f->nruns; ++i) {
    const Run& r = t_->run(f, i);
    held += r.segs;
    EmitRun(l, r, out);
  }
  t_->held_packets -= held;
  t_->Remove(f);
}

namespace {

// Flushing walks flows in creation order; with many flows their entries,
// head mbufs and headers are all cold.  Prefetch two flows ahead: the entry
// of the second, the head mbuf and first header line of the first.
// `timed`: the creation time (cold entry) is read too.
inline void PrefetchFlush(const FlowTable& t, const Flow* f, bool timed) {
  const Flow* a = t.newer(f);
  if (a == nullptr) return;
  if (const Flow* b = t.newer(a)) {
    rte_prefetch0(&b->run0);
    // Layout, start_tsc and runs[1] share a cold line.
    if (timed || b->shape == kNoShape) rte_prefetch0(&t.cold(b).layout);
    if (b->nruns > 1) rte_prefetch0(&t.cold(b).runs[0]);
  }
  rte_mbuf* h = a->run0.head;
  rte_prefetch0(h);
  rte_prefetch0(static_cast<char*>(h->buf_addr) + h->data_off);
  // LIST: the last member's link is written at emit (second mbuf line).
  if (t.layout(a).mode == uint8_t(Mode::kList)) {
    rte_prefetch0(reinterpret_cast<const char*>(a->run0.tail) + 64);
  }
}

}  // namespace

void Context::FlushTimedOut(uint64_t now_tsc, uint64_t max_age_tsc,
                            Output* out) {
  Engine e(cfg_, table_, &counters_);
  // Flows are in creation order, so the scan stops at the first young one.
  while (Flow* f = table_->oldest()) {
    if (now_tsc - table_->cold(f).start_tsc < max_age_tsc) break;
    PrefetchFlush(*table_, f, true);
    e.FlushFlow(f, kFlushTimeout, out);
  }
}

void Context::FlushAll(Output* out, FlushReason reason) {
  Engine e(cfg_, table_, &counters_);
  while (Flow* f = table_->oldest()) {
    PrefetchFlush(*table_, f, false);
    e.FlushFlow(f, reason, out);
  }
}

void Context::FlushFlowOf(const ParsedPacket& p, Output* out) {
  if (!p.key_valid || table_->size() == 0) return;
  if (Flow* f = table_->Find(p.key, p.hash)) {
    Engine(cfg_, table_, &counters_).FlushFlow(f, kFlushExplicit, out);
  }
}

}  // namespace grod::gro
