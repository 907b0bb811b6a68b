#include "dataplane/control/tenant_manager.h"

#include <rte_cycles.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace grod::dataplane {

// ContextConfigOf hands a tenant's GroTypeBit set to the engine as its
// gro::GroType bits, and the API's defaults must be the engine's.
static_assert(kGroTcp4 == gro::kTcp4 && kGroTcp6 == gro::kTcp6 &&
              kGroUdp4 == gro::kUdp4 && kGroUdp6 == gro::kUdp6 &&
              kGroIpv4Frag == gro::kIpv4Frag && kGroVxlan == gro::kVxlan &&
              kGroAll == gro::kAll);
static_assert(FlushPolicy{}.max_merged_bytes ==
              gro::ContextConfig{}.max_merged_bytes);
static_assert(FlushPolicy{}.max_segments == gro::ContextConfig{}.max_segments);
static_assert(kDefaultMaxFlows == gro::ContextConfig{}.max_flows &&
              kDefaultMaxHeldPackets == gro::ContextConfig{}.max_held_packets);

namespace {

constexpr absl::Duration kWorkerAnswerTimeout = absl::Seconds(5);
// How often a waiting call re-checks its workers.
constexpr absl::Duration kWaitPoll = absl::Microseconds(50);

std::string TableName(uint16_t slot, int buffer) {
  return absl::StrCat("grod_hints_", slot, "_", buffer);
}

std::string LcoreList(const std::vector<unsigned>& lcores) {
  return absl::StrCat(lcores.size() == 1 ? "worker lcore " : "worker lcores ",
                      absl::StrJoin(lcores, ", "));
}

// No tenant yet: every port's traffic bypasses GRO unclaimed.
const ConfigSnapshot* FirstSnapshot() {
  auto* snap = new ConfigSnapshot();
  FindWholePorts(snap);
  return snap;
}

}  // namespace

TenantManager::TenantManager(rte_rcu_qsbr* qsbr, uint16_t vxlan_port,
                             bool verify_checksums)
    : qsbr_(qsbr),
      vxlan_port_(vxlan_port),
      verify_checksums_(verify_checksums),
      tsc_hz_(rte_get_tsc_hz()),
      current_(FirstSnapshot()) {}

TenantManager::~TenantManager() {
  // Workers are stopped: nothing reads any snapshot any more.
  delete current_.load();
  for (auto& [token, snap] : retired_) delete snap;
}

void TenantManager::AttachWorkers(std::vector<WorkerHandle*> workers) {
  absl::MutexLock lock(&mu_);
  workers_ = std::move(workers);
}

uint64_t TenantManager::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

gro::ContextConfig TenantManager::ContextConfigOf(
    const TenantSpec& spec) const {
  gro::ContextConfig c;
  c.max_flows = spec.max_flows;
  c.max_held_packets = spec.max_held_packets;
  c.gro_types = spec.gro_types;
  c.max_merged_bytes = spec.flush.max_merged_bytes;
  c.max_segments = spec.flush.max_segments;
  c.vxlan_port = vxlan_port_;
  c.verify_checksums = verify_checksums_;
  return c;
}

absl::Status TenantManager::CheckWorkersAlive() const {
  std::vector<unsigned> stalled;
  for (const WorkerHandle* w : workers_) {
    if (w->stalled()) stalled.push_back(w->lcore());
  }
  if (stalled.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      LcoreList(stalled),
      " stopped polling (stuck): configuration changes are refused until "
      "it recovers; grod reports NOT_SERVING meanwhile (restart grod if it "
      "does not recover)"));
}

absl::Status TenantManager::StallWorkerForTest(unsigned lcore,
                                               absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  for (WorkerHandle* w : workers_) {
    if (w->lcore() != lcore) continue;
    WorkerCommand stall{WorkerCommand::Kind::kStallForTest};
    stall.stall_ms = absl::ToInt64Milliseconds(duration);
    const uint64_t seq = w->Post(stall);
    if (seq == 0) {
      return absl::UnavailableError(
          absl::StrCat("worker lcore ", lcore, ": command ring full"));
    }
    // The worker acknowledges a stall as it begins it: wait for that, so
    // a test knows the lcore is stuck when this returns. A worker already
    // stuck takes it later.
    const absl::Time deadline = absl::Now() + kWorkerAnswerTimeout;
    while (seq > w->commands_done() && !w->stalled() &&
           absl::Now() < deadline) {
      absl::SleepFor(kWaitPoll);
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no worker on lcore ", lcore));
}

absl::Status TenantManager::RunOnWorkers(const WorkerCommand& cmd) {
  std::vector<std::pair<WorkerHandle*, uint64_t>> waits;
  std::vector<uint64_t> failed_before;
  for (WorkerHandle* w : workers_) {
    failed_before.push_back(w->commands_failed());
    const uint64_t seq = w->Post(cmd);
    if (seq == 0) {
      return absl::UnavailableError(
          absl::StrCat("worker lcore ", w->lcore(),
                       " stopped taking commands (its command ring is full)"));
    }
    waits.emplace_back(w, seq);
  }
  const absl::Time deadline = absl::Now() + kWorkerAnswerTimeout;
  bool failed = false;
  for (size_t i = 0; i < waits.size(); ++i) {
    auto [w, seq] = waits[i];
    while (seq > w->commands_done()) {
      // The worker has its own copy of `cmd`: giving up frees nothing it
      // may still read. It runs the command if it recovers.
      if (w->stalled()) {
        return absl::UnavailableError(absl::StrCat(
            "worker lcore ", w->lcore(),
            " stopped polling (stuck) before applying the change; grod "
            "reports NOT_SERVING (restart grod if it does not recover)"));
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "worker lcore ", w->lcore(), " took over ",
            absl::FormatDuration(kWorkerAnswerTimeout), " to apply a change"));
      }
      absl::SleepFor(kWaitPoll);
    }
    failed |= w->commands_failed() != failed_before[i];
  }
  if (failed) {
    return absl::ResourceExhaustedError(
        "a worker lcore could not allocate the tenant's GRO context: lower "
        "its quotas (max_flows, max_held_packets) or give DPDK more memory");
  }
  return absl::OkStatus();
}

SlotSet TenantManager::LosersOf(
    const std::vector<TrafficSelector>& changed) const {
  std::vector<TenantSelectors> tenants;
  for (const auto& [name, t] : tenants_) {
    tenants.push_back({t.slot, &t.spec.selectors});
  }
  auto unmatched = tenants_.find(unmatched_);
  return TenantsLosingTraffic(
      tenants, unmatched == tenants_.end() ? -1 : unmatched->second.slot,
      changed);
}

absl::Status TenantManager::CheckSelectors(const TenantSpec& spec) const {
  Classifier c;
  for (const auto& [name, t] : tenants_) {
    if (name == spec.name) continue;
    for (const TrafficSelector& s : t.spec.selectors) {
      if (absl::Status st = c.Add(s, t.slot); !st.ok()) return st;
    }
  }
  for (const TrafficSelector& s : spec.selectors) {
    // kMaxTenants never names a real slot: any clash is with another tenant.
    if (absl::Status st = c.Add(s, kMaxTenants); !st.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("tenant '", spec.name,
                       "': a selector is identical to one of another tenant"));
    }
  }
  return absl::OkStatus();
}

absl::Status TenantManager::Publish(const SlotSet& reclassified) {
  auto snap = std::make_unique<ConfigSnapshot>();
  snap->generation = ++generation_;
  if (reclassified.any()) {
    ++epoch_;
    for (int slot = 0; slot < kMaxTenants; ++slot) {
      if (reclassified[slot]) reclassified_epoch_[slot] = epoch_;
    }
  }
  snap->classification_epoch = epoch_;
  for (int slot = 0; slot < kMaxTenants; ++slot) {
    snap->tenants[slot].reclassified_epoch = reclassified_epoch_[slot];
  }
  for (const auto& [name, t] : tenants_) {
    for (const TrafficSelector& s : t.spec.selectors) {
      snap->classifier.Add(s, t.slot).IgnoreError();  // checked beforehand
    }
    TenantRuntime& rt = snap->tenants[t.slot];
    rt.active = true;
    rt.default_mode = t.spec.default_mode;
    rt.flush_kind = t.spec.flush.kind;
    // 128-bit: timeout_ns * tsc_hz overflows 64 bits past ~7 s at 2.6 GHz.
    rt.timeout_tsc = static_cast<uint64_t>(
        static_cast<unsigned __int128>(t.spec.flush.timeout_ns) * tsc_hz_ /
        1000000000);
    rt.routes = t.hints.empty() ? nullptr : t.tables[t.published].get();
  }
  auto it = tenants_.find(unmatched_);
  snap->unmatched_slot =
      it == tenants_.end() ? Classifier::kNoTenant : it->second.slot;
  FindWholePorts(snap.get());

  const ConfigSnapshot* old =
      current_.exchange(snap.release(), std::memory_order_acq_rel);
  // Done once every worker passed a quiescent state after the exchange (or
  // is offline): none can still hold `old`.
  const uint64_t token = rte_rcu_qsbr_start(qsbr_);
  const absl::Time deadline = absl::Now() + kWorkerAnswerTimeout;
  while (rte_rcu_qsbr_check(qsbr_, token, false) == 0) {
    absl::Status s = CheckWorkersAlive();
    if (s.ok() && absl::Now() > deadline) {
      s = absl::DeadlineExceededError(
          absl::StrCat("a worker lcore took over ",
                       absl::FormatDuration(kWorkerAnswerTimeout),
                       " to take up a configuration change"));
    }
    if (!s.ok()) {
      // Published all the same: the live workers use it already.
      retired_.emplace_back(token, old);
      return absl::Status(s.code(),
                          absl::StrCat(s.message(),
                                       " (the change is in effect on the other "
                                       "worker lcores)"));
    }
    absl::SleepFor(kWaitPoll);
  }
  delete old;
  return absl::OkStatus();
}

absl::Status TenantManager::Quiesce() {
  if (absl::Status s = CheckWorkersAlive(); !s.ok()) return s;
  if (retired_.empty()) return absl::OkStatus();
  // The newest token covers the older ones.
  const uint64_t token = retired_.back().first;
  const absl::Time deadline = absl::Now() + kWorkerAnswerTimeout;
  while (rte_rcu_qsbr_check(qsbr_, token, false) == 0) {
    if (absl::Status s = CheckWorkersAlive(); !s.ok()) return s;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          "a worker lcore that was stuck has not caught up yet; retry");
    }
    absl::SleepFor(kWaitPoll);
  }
  for (auto& [t, old] : retired_) delete old;
  retired_.clear();
  retired_tables_.clear();
  return absl::OkStatus();
}

absl::Status TenantManager::Upsert(const TenantSpec& spec) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Quiesce(); !s.ok()) return s;
  if (absl::Status s = CheckSelectors(spec); !s.ok()) return s;
  auto it = tenants_.find(spec.name);
  if (it == tenants_.end()) {
    int slot = -1;
    for (int i = 0; i < kMaxTenants && slot < 0; ++i) {
      if (!slot_used_[i]) slot = i;
    }
    if (slot < 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("at most ", kMaxTenants, " tenants"));
    }
    WorkerCommand create{WorkerCommand::Kind::kCreate, uint16_t(slot),
                         ContextConfigOf(spec)};
    if (absl::Status s = RunOnWorkers(create); !s.ok()) {
      WorkerCommand undo{WorkerCommand::Kind::kDestroy, uint16_t(slot), {}};
      RunOnWorkers(undo).IgnoreError();
      return s;
    }
    // Its selectors take traffic from the tenants they overlap (computed
    // before it joins tenants_).
    const SlotSet losers = LosersOf(spec.selectors);
    slot_used_[slot] = true;
    Tenant& t = tenants_[spec.name];
    t.spec = spec;
    t.slot = slot;
    for (int b = 0; b < 2; ++b) {
      t.tables[b] = std::make_unique<RouteTable>(TableName(slot, b));
    }
    return Publish(losers);
  }

  Tenant& t = it->second;
  const gro::ContextConfig old_cfg = ContextConfigOf(t.spec);
  const gro::ContextConfig new_cfg = ContextConfigOf(spec);
  if (old_cfg != new_cfg) {
    // Held packets are flushed out before the new context takes over.
    WorkerCommand replace{WorkerCommand::Kind::kReplace, t.slot, new_cfg};
    if (absl::Status s = RunOnWorkers(replace); !s.ok()) {
      WorkerCommand undo{WorkerCommand::Kind::kReplace, t.slot, old_cfg};
      RunOnWorkers(undo).IgnoreError();
      return s;
    }
  }
  // A policy or quota change moves no traffic: the other tenants keep
  // what they hold.
  const SlotSet losers =
      LosersOf(ChangedSelectors(t.spec.selectors, spec.selectors));
  t.spec = spec;
  return Publish(losers);
}

absl::Status TenantManager::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Quiesce(); !s.ok()) return s;
  auto it = tenants_.find(name);
  if (it == tenants_.end()) {
    return absl::NotFoundError(absl::StrCat("no tenant '", name, "'"));
  }
  const uint16_t slot = it->second.slot;
  // Unpublish first: after the grace period no worker classifies to the
  // slot, and each one flushed what it held (new classification epoch for
  // the slot and for the tenants its traffic falls back to).
  SlotSet losers = LosersOf(it->second.spec.selectors);
  losers.set(slot);
  auto node = tenants_.extract(it);
  if (unmatched_ == name) unmatched_.clear();
  absl::Status published = Publish(losers);
  if (!published.ok()) {
    // A stalled worker may still read the old snapshot and its tables.
    for (auto& table : node.mapped().tables) {
      retired_tables_.push_back(std::move(table));
    }
  }
  WorkerCommand destroy{WorkerCommand::Kind::kDestroy, slot, {}};
  absl::Status s = RunOnWorkers(destroy);
  slot_used_[slot] = false;
  // node (and its route tables) freed here, after the grace period.
  return published.ok() ? s : published;
}

absl::Status TenantManager::SetUnmatched(const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Quiesce(); !s.ok()) return s;
  if (!tenant.empty() && !tenants_.contains(tenant)) {
    return absl::NotFoundError(absl::StrCat("no tenant '", tenant, "'"));
  }
  // Traffic no selector matches moves from the old unmatched tenant.
  SlotSet losers;
  if (auto old = tenants_.find(unmatched_);
      tenant != unmatched_ && old != tenants_.end()) {
    losers.set(old->second.slot);
  }
  unmatched_ = tenant;
  return Publish(losers);
}

void TenantManager::AddStats(StatsSnapshot* stats) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, t] : tenants_) {
    TenantCounters c;
    c.tenant = name;
    for (const WorkerHandle* w : workers_) w->AddTenantCounters(t.slot, &c);
    stats->tenants.push_back(std::move(c));
  }
  TenantCounters unmatched;
  unmatched.tenant = "_unmatched";
  for (const WorkerHandle* w : workers_) w->AddUnmatchedCounters(&unmatched);
  unmatched.packets_out = unmatched.bypass_packets = unmatched.packets_in;
  stats->tenants.push_back(std::move(unmatched));
  stats->config_generation = generation_;
}

}  // namespace grod::dataplane
