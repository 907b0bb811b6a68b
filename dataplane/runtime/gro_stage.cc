#include "dataplane/runtime/gro_stage.h"

#include <algorithm>

#include "dataplane/runtime/lcore_counters.h"

namespace grod::dataplane {

// Process() takes a tenant's GroMode as the engine's gro::Mode by value.
static_assert(static_cast<int>(GroMode::kMerge) ==
              static_cast<int>(gro::Mode::kMerge));
static_assert(static_cast<int>(GroMode::kList) ==
              static_cast<int>(gro::Mode::kList));
static_assert(static_cast<int>(GroMode::kBypass) ==
              static_cast<int>(gro::Mode::kBypass));

namespace {

void AddEngineCounters(const gro::Counters& c, TenantCounters* out) {
  out->packets_in += ReadCounter(c.packets_in);
  out->bytes_in += ReadCounter(c.bytes_in);
  out->packets_out += ReadCounter(c.packets_out);
  out->merged_packets_out += ReadCounter(c.merged_out);
  out->list_packets_out += ReadCounter(c.list_out);
  out->single_packets_out += ReadCounter(c.single_out);
  out->segments_merged += ReadCounter(c.segments_merged);
  out->segments_listed += ReadCounter(c.segments_listed);
  out->bypass_packets += ReadCounter(c.bypass);
  for (int r = 1; r < gro::kPassReasonCount; ++r) {
    if (const uint64_t v = ReadCounter(c.passthrough[r])) {
      out->passthrough[gro::kPassReasonNames[r]] += v;
    }
  }
  for (int r = 0; r < gro::kFlushReasonCount; ++r) {
    if (const uint64_t v = ReadCounter(c.flushes[r])) {
      out->flushes[gro::kFlushReasonNames[r]] += v;
    }
  }
  out->segments_per_output.resize(gro::kSegmentBucketCount);
  for (int b = 0; b < gro::kSegmentBucketCount; ++b) {
    out->segments_per_output[b] += ReadCounter(c.segments_hist[b]);
  }
}

void Accumulate(const gro::Counters& from, gro::Counters* into) {
  into->packets_in += from.packets_in;
  into->bytes_in += from.bytes_in;
  into->packets_out += from.packets_out;
  into->merged_out += from.merged_out;
  into->list_out += from.list_out;
  into->single_out += from.single_out;
  into->segments_merged += from.segments_merged;
  into->segments_listed += from.segments_listed;
  into->bypass += from.bypass;
  for (int r = 0; r < gro::kPassReasonCount; ++r) {
    into->passthrough[r] += from.passthrough[r];
  }
  for (int r = 0; r < gro::kFlushReasonCount; ++r) {
    into->flushes[r] += from.flushes[r];
  }
  for (int b = 0; b < gro::kSegmentBucketCount; ++b) {
    into->segments_hist[b] += from.segments_hist[b];
  }
}

}  // namespace

GroStage::GroStage(uint16_t vxlan_port, Egress* egress)
    : parse_config_{vxlan_port}, egress_(egress) {
  out_ = gro::Output{out_buf_, 0, 64, &GroStage::Drain, this};
}

GroStage::~GroStage() { FlushAll(gro::kFlushExplicit); }

void GroStage::Drain(gro::Output* out, void* arg) {
  auto* self = static_cast<GroStage*>(arg);
  for (uint16_t i = 0; i < out->count; ++i)
    self->egress_->SendGro(out->pkts[i]);
  out->count = 0;
}

void GroStage::Retire(uint16_t slot) {
  if (!contexts_[slot]) return;
  contexts_[slot]->FlushAll(&out_, gro::kFlushConfig);
  Drain(&out_, this);
  Accumulate(contexts_[slot]->counters(), &retired_[slot]);
  contexts_[slot].reset();
  RemoveLive(slot);
}

void GroStage::AddLive(uint16_t slot) {
  uint16_t* end = live_.data() + live_count_;
  uint16_t* at = std::lower_bound(live_.data(), end, slot);
  if (at != end && *at == slot) return;
  std::copy_backward(at, end, end + 1);
  *at = slot;
  ++live_count_;
}

void GroStage::RemoveLive(uint16_t slot) {
  uint16_t* end = live_.data() + live_count_;
  uint16_t* at = std::lower_bound(live_.data(), end, slot);
  if (at == end || *at != slot) return;
  std::copy(at + 1, end, at);
  --live_count_;
}

bool GroStage::Execute(const WorkerCommand& cmd) {
  switch (cmd.kind) {
    case WorkerCommand::Kind::kDestroy:
      Retire(cmd.slot);
      // The slot's next tenant starts at 0.
      retired_[cmd.slot] = gro::Counters{};
      merge_as_list_[cmd.slot] = 0;
      return true;
    case WorkerCommand::Kind::kReplace:
      Retire(cmd.slot);
      [[fallthrough]];
    case WorkerCommand::Kind::kCreate:
      contexts_[cmd.slot] = gro::Context::Create(cmd.config);
      if (contexts_[cmd.slot] == nullptr) return false;
      AddLive(cmd.slot);
      return true;
    case WorkerCommand::Kind::kStallForTest:
      return true;  // the Worker's business
  }
  return false;
}

void GroStage::BeginIteration(const ConfigSnapshot& snap) {
  if (snap.classification_epoch == seen_epoch_) return;
  // Epochs only grow, so a tenant reclassified in any snapshot this lcore
  // skipped is flushed too.
  for (uint16_t i = 0; i < live_count_; ++i) {
    const uint16_t slot = live_[i];
    gro::Context* ctx = contexts_[slot].get();
    if (ctx->held_packets() != 0 &&
        snap.tenants[slot].reclassified_epoch > seen_epoch_) {
      ctx->FlushAll(&out_, gro::kFlushConfig);
    }
  }
  Drain(&out_, this);
  seen_epoch_ = snap.classification_epoch;
}

void GroStage::ProcessBurst(const ConfigSnapshot& snap, rte_mbuf** pkts,
                            uint16_t n, uint64_t now_tsc) {
  gro::ParsedPacket p;
  // Bursts are mostly one tenant: remember the last classification.
  uint32_t last_key = UINT32_MAX;
  int64_t last_vni = -2;
  int slot = Classifier::kNoTenant;
  for (uint16_t i = 0; i < n;) {
    rte_mbuf* m = pkts[i++];
    gro::Parse(m, parse_config_, &p);
    const int64_t vni = p.has_vni ? int64_t{p.vni} : -1;
    const uint32_t key = (uint32_t{m->port} << 16) | p.vlan_id;
    if (key != last_key || vni != last_vni) {
      slot = snap.classifier.Match(m->port, p.vlan_id, vni);
      if (slot == Classifier::kNoTenant) slot = snap.unmatched_slot;
      last_key = key;
      last_vni = vni;
    }
    gro::Context* ctx = slot >= 0 ? contexts_[slot].get() : nullptr;
    if (ctx == nullptr) {
      ++unmatched_packets_;
      unmatched_bytes_ += m->pkt_len;
      egress_->Send(m);
      continue;
    }
    GroMode mode = snap.tenants[slot].ModeFor(p.dst_is_v6, p.dst_ip);
    // MERGE towards a port that cannot take the merged packet whole: its
    // software GSO would cut it back into these very frames, after a
    // checksum pass here and another there.  Linked instead, nothing is
    // rewritten, so nothing needs verifying; egress unlinks them.
    const bool as_list = mode == GroMode::kMerge &&
                         p.reason == gro::kPassNone &&
                         !egress_->TakesMergedWhole(m->port, p);
    if (as_list) mode = GroMode::kList;
    ctx->Process(m, p, static_cast<gro::Mode>(mode), now_tsc, &out_);
    // The packets right after it that continue its flow -- same ingress
    // port and headers (VLAN tags, addresses, ports...), so the same
    // tenant and mode under this snapshot and egress state -- skip parsing
    // and classification: the engine checks them against the flow's
    // header template and appends them.
    const uint16_t more = i < n ? ctx->ContinueFlow(pkts + i, n - i, &out_) : 0;
    i += more;
    if (as_list) merge_as_list_[slot] += 1 + more;
  }
  Drain(&out_, this);
}

void GroStage::ProcessPortBurst(const ConfigSnapshot& snap, uint16_t port,
                                rte_mbuf** pkts, uint16_t n, uint64_t bytes,
                                uint64_t now_tsc) {
  const int route = snap.whole_port[port];
  if (route == ConfigSnapshot::kPerPacket) {
    ProcessBurst(snap, pkts, n, now_tsc);
    return;
  }
  gro::Context* ctx = route >= 0 ? contexts_[route].get() : nullptr;
  if (ctx == nullptr) {
    // No tenant, or its context could not be made: bypassed unclaimed,
    // as ProcessBurst() would.
    unmatched_packets_ += n;
    unmatched_bytes_ += bytes;
  } else {
    // Held packets (the tenant merged until a moment ago) leave first.
    if (ctx->held_packets() != 0) {
      ctx->FlushAll(&out_, gro::kFlushPassthrough);
      Drain(&out_, this);
    }
    ctx->CountBypassed(n, bytes);
  }
  egress_->SendBurst(port, pkts, n);
}

bool GroStage::FlushByPolicy(const ConfigSnapshot& snap, uint64_t now_tsc,
                             bool busy) {
  uint32_t budget = kFlushBudget;
  bool exhausted = false;
  // The live slots in round-robin order: from the first at or after
  // flush_cursor_, wrapping around.
  const uint16_t first =
      std::lower_bound(live_.data(), live_.data() + live_count_,
                       flush_cursor_) -
      live_.data();
  for (uint16_t i = 0; i < live_count_; ++i) {
    const uint16_t k = first + i;
    const uint16_t slot = live_[k < live_count_ ? k : k - live_count_];
    gro::Context* ctx = contexts_[slot].get();
    if (ctx->held_packets() == 0) continue;
    const TenantRuntime& t = snap.tenants[slot];
    if (t.flush_kind == FlushKind::kPerBurst) {
      ctx->FlushAll(&out_, gro::kFlushBurstEnd);
      continue;
    }
    if (budget == 0) continue;
    // ADAPTIVE: an idle queue means nothing will join the held flows soon:
    // send them now for latency; under load, batch up to the timeout.
    budget -= t.flush_kind == FlushKind::kAdaptive && !busy
                  ? ctx->FlushOldest(&out_, budget, gro::kFlushBurstEnd)
                  : ctx->FlushTimedOut(now_tsc, t.timeout_tsc, &out_, budget);
    if (budget == 0) {
      // Round robin: next time the tenants after this one go first, so one
      // tenant's backlog cannot starve the others.
      exhausted = true;
      flush_cursor_ = (slot + 1) % kMaxTenants;
    }
  }
  Drain(&out_, this);
  return exhausted;
}

uint32_t GroStage::RelievePressure(uint32_t max_flows) {
  uint32_t flushed = 0;
  while (flushed < max_flows) {
    gro::Context* largest = nullptr;
    for (uint16_t i = 0; i < live_count_; ++i) {
      gro::Context* ctx = contexts_[live_[i]].get();
      if (ctx->held_packets() != 0 &&
          (largest == nullptr ||
           ctx->held_packets() > largest->held_packets())) {
        largest = ctx;
      }
    }
    if (largest == nullptr) break;
    const uint32_t n =
        largest->FlushOldest(&out_, max_flows - flushed, gro::kFlushPressure);
    if (n == 0) break;
    flushed += n;
  }
  Drain(&out_, this);
  return flushed;
}

void GroStage::FlushAll(gro::FlushReason reason) {
  for (uint16_t i = 0; i < live_count_; ++i) {
    gro::Context* ctx = contexts_[live_[i]].get();
    if (ctx->held_packets()) ctx->FlushAll(&out_, reason);
  }
  Drain(&out_, this);
}

void GroStage::AddCounters(uint16_t slot, TenantCounters* out) const {
  AddEngineCounters(retired_[slot], out);
  out->merge_as_list_packets += ReadCounter(merge_as_list_[slot]);
  if (const gro::Context* ctx = contexts_[slot].get()) {
    AddEngineCounters(ctx->counters(), out);
    out->held_flows += ctx->held_flows();
    out->held_packets += ctx->held_packets();
  }
}

}  // namespace grod::dataplane
