// Emitting held flows: one output per run (a merged packet, a list, or a
// single packet), flush counters, and the Context flush entry points.
#include "dataplane/gro/engine.h"
#include "dataplane/gro/output.h"

namespace grod::gro {

void Engine::EmitRun(const Layout& l, const Run& r, Output* out) {
  c_->packets_out++;
  c_->segments_hist[grod::SegmentBucketIndex(r.segs)]++;
  if (r.segs == 1) {
    c_->single_out++;
    SetMetadata(r.head, l);
  } else if (l.mode == uint8_t(Mode::kList)) {
    FinalizeList(l, r);
    c_->list_out++;
    c_->segments_listed += r.segs;
  } else {
    // RFC 3168 5.3: CE on any fragment is CE on the whole.  (A flow never
    // mixes Not-ECT and ECT fragments; FinalizeMerged() recomputes the
    // fragment's header checksum.)
    if (l.type == kIpv4Frag && (r.flags & kEcnSeenCe)) {
      rte_pktmbuf_mtod(r.head, uint8_t*)[l.l3_off + 1] |= 3;
    }
    FinalizeMerged(l, r);
    c_->merged_out++;
    c_->segments_merged += r.segs;
  }
  Push(out, r.head);
}

void Engine::EmitFlow(const Flow* f, FlushReason why, Output* out) {
  c_->flushes[why]++;
  const Layout& l = t_->layout(f);
  if (f->nruns == 1) {
    t_->held_packets -= f->run0.segs;
    EmitRun(l, f->run0, out);
    return;
  }
  // Only a fragment flow holds more than one run (a TCP flow holds one,
  // AddSeq).  Runs leave in arrival order (of each run's first packet), never
  // reordered by GRO: a later run with a lower sequence number waits.
  uint32_t held = 0;
  int order[kMaxRuns];
  const uint32_t* stamp = t_->cold(f).run_stamp;
  for (int i = 0; i < f->nruns; ++i) {
    int j = i;
    for (; j > 0 && int32_t(stamp[order[j - 1]] - stamp[i]) > 0; --j) {
      order[j] = order[j - 1];
    }
    order[j] = i;
  }
  for (int i = 0; i < f->nruns; ++i) {
    const Run& r = t_->run(f, order[i]);
    held += r.segs;
    EmitRun(l, r, out);
  }
  t_->held_packets -= held;
}

void Engine::FlushFlow(Flow* f, FlushReason why, Output* out) {
  EmitFlow(f, why, out);
  t_->Retire(f);
}

namespace {

// Flushing walks flows in creation order; with many flows their entries,
// head mbufs and headers are all cold.  Three cursors run ahead of the
// flow being emitted, each touching only what the one before it fetched a
// few flows earlier: entries (kEntry ahead, with their creation time when
// it is read), head mbufs (both lines: lengths, packet_type, tx_offload),
// then headers (and a LIST tail's link).
class FlushPrefetcher {
 public:
  FlushPrefetcher(const FlowTable& t, bool timed) : t_(t), timed_(timed) {}
  // Call with the flow about to be emitted, before emitting it.
  void Next(const Flow* f) {
    if (!started_) {
      started_ = true;
      e_ = h_ = d_ = f;
      for (int i = 0; i < kEntry; ++i) StepEntry();
      for (int i = 0; i < kHead; ++i) StepHead();
      for (int i = 0; i < kData; ++i) StepData();
    }
    StepEntry();
    StepHead();
    StepData();
  }

 private:
  static constexpr int kEntry = 20, kHead = 13, kData = 6;
  void StepEntry() {
    if (e_ == nullptr || (e_ = t_.newer(e_)) == nullptr) return;
    rte_prefetch0(&e_->run0);
    // Layout and runs[1] share a cold line; creation times are dense.
    if (e_->shape == kNoShape) rte_prefetch0(&t_.cold(e_).layout);
    if (timed_) rte_prefetch0(&t_.start_tsc(e_));
    if (e_->nruns > 1) rte_prefetch0(&t_.cold(e_).runs[0]);
  }
  void StepHead() {
    if (h_ == nullptr || (h_ = t_.newer(h_)) == nullptr) return;
    rte_prefetch0(h_->run0.head);
    rte_prefetch0(reinterpret_cast<const char*>(h_->run0.head) + 64);
  }
  void StepData() {
    if (d_ == nullptr || (d_ = t_.newer(d_)) == nullptr) return;
    const rte_mbuf* m = d_->run0.head;
    rte_prefetch0(static_cast<const char*>(m->buf_addr) + m->data_off);
    if (t_.layout(d_).mode == uint8_t(Mode::kList)) {
      rte_prefetch0(reinterpret_cast<const char*>(d_->run0.tail) + 64);
    }
  }
  const FlowTable& t_;
  const bool timed_;
  bool started_ = false;
  const Flow *e_ = nullptr, *h_ = nullptr, *d_ = nullptr;
};

}  // namespace

void Context::FlushTimedOut(uint64_t now_tsc, uint64_t max_age_tsc,
                            Output* out) {
  FlushTimedOut(now_tsc, max_age_tsc, out, UINT32_MAX);
}

// Stopping after max_flows is safe at any flow: FlushFlow emits a flow's
// runs whole and unlinks only that flow, so the ones left keep their
// packets and their creation order (the next call resumes with the oldest,
// and a packet arriving in between joins its still-held flow).  The
// prefetcher may have run up to kEntry flows past the last one emitted;
// those are the next call's first flows.
uint32_t Context::FlushTimedOut(uint64_t now_tsc, uint64_t max_age_tsc,
                                Output* out, uint32_t max_flows) {
  Engine e(cfg_, table_, &counters_);
  // (Age 0: every flow, no creation time to read.)
  FlushPrefetcher pf(*table_, max_age_tsc != 0);
  uint32_t n = 0;
  // Flows are in creation order, so the scan stops at the first young one.
  for (Flow* f; n < max_flows && (f = table_->oldest()) != nullptr; ++n) {
    if (max_age_tsc != 0 && now_tsc - table_->start_tsc(f) < max_age_tsc) {
      break;
    }
    pf.Next(f);
    e.FlushFlow(f, kFlushTimeout, out);
  }
  return n;
}

uint32_t Context::FlushOldest(Output* out, uint32_t max_flows,
                              FlushReason reason) {
  Engine e(cfg_, table_, &counters_);
  FlushPrefetcher pf(*table_, false);
  uint32_t n = 0;
  for (Flow* f; n < max_flows && (f = table_->oldest()) != nullptr; ++n) {
    pf.Next(f);
    e.FlushFlow(f, reason, out);
  }
  return n;
}

void Context::FlushAll(Output* out, FlushReason reason) {
  FlushOldest(out, UINT32_MAX, reason);
}

void Context::FlushAllAndForget(Output* out, FlushReason reason) {
  Engine e(cfg_, table_, &counters_);
  FlushPrefetcher pf(*table_, false);
  for (const Flow* f = table_->oldest(); f != nullptr; f = table_->newer(f)) {
    pf.Next(f);
    e.EmitFlow(f, reason, out);
  }
  table_->Reset();
  last_flow_ = UINT32_MAX;
  streaming_ = false;
}

void Context::FlushFlowOf(const ParsedPacket& p, Output* out) {
  if (!p.key_valid || table_->size() == 0) return;
  Flow* f = table_->Find(p.key, p.hash);
  if (f != nullptr && f->nruns != 0) {
    Engine(cfg_, table_, &counters_).FlushFlow(f, kFlushExplicit, out);
  }
}

}  // namespace grod::gro
