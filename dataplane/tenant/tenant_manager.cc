#include "dataplane/tenant/tenant_manager.h"

#include <rte_cycles.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace grod::dataplane {
namespace {

constexpr absl::Duration kWorkerAnswerTimeout = absl::Seconds(5);

std::string TableName(uint16_t slot, int buffer) {
  return absl::StrCat("grod_hints_", slot, "_", buffer);
}

}  // namespace

TenantManager::TenantManager(rte_rcu_qsbr* qsbr, uint16_t vxlan_port,
                             bool verify_checksums)
    : qsbr_(qsbr),
      vxlan_port_(vxlan_port),
      verify_checksums_(verify_checksums),
      tsc_hz_(rte_get_tsc_hz()),
      current_(new ConfigSnapshot()) {}

TenantManager::~TenantManager() { delete current_.load(); }

void TenantManager::AttachWorkers(std::vector<Worker*> workers) {
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

absl::Status TenantManager::RunOnWorkers(const WorkerCommand& cmd) {
  std::vector<std::pair<Worker*, uint64_t>> waits;
  std::vector<uint64_t> failed_before;
  for (Worker* w : workers_) {
    failed_before.push_back(w->commands_failed());
    waits.emplace_back(w, w->Post(&cmd));
  }
  const absl::Time deadline = absl::Now() + kWorkerAnswerTimeout;
  bool failed = false;
  for (size_t i = 0; i < waits.size(); ++i) {
    auto [w, seq] = waits[i];
    while (seq > w->commands_done()) {
      if (absl::Now() > deadline) {
        // The worker still holds `cmd`; it lives in our caller's frame,
        // so wait for it however long it takes rather than free it early.
        while (seq > w->commands_done()) std::this_thread::yield();
        return absl::DeadlineExceededError(absl::StrCat(
            "worker lcore ", w->lcore(), " took over ",
            absl::FormatDuration(kWorkerAnswerTimeout), " to apply a change"));
      }
      std::this_thread::yield();
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

void TenantManager::Publish(bool reclassified) {
  auto snap = std::make_unique<ConfigSnapshot>();
  snap->generation = ++generation_;
  if (reclassified) ++epoch_;
  snap->classification_epoch = epoch_;
  for (const auto& [name, t] : tenants_) {
    for (const TrafficSelector& s : t.spec.selectors) {
      snap->classifier.Add(s, t.slot).IgnoreError();  // checked beforehand
    }
    TenantRuntime& rt = snap->tenants[t.slot];
    rt.active = true;
    rt.default_mode = t.spec.default_mode;
    rt.flush_kind = t.spec.flush.kind;
    rt.timeout_tsc = t.spec.flush.timeout_ns * tsc_hz_ / 1000000000;
    rt.routes = t.hints.empty() ? nullptr : t.tables[t.published].get();
  }
  auto it = tenants_.find(unmatched_);
  snap->unmatched_slot =
      it == tenants_.end() ? Classifier::kNoTenant : it->second.slot;

  const ConfigSnapshot* old =
      current_.exchange(snap.release(), std::memory_order_acq_rel);
  // Returns once every worker passed a quiescent state after the exchange
  // (or is offline): none can still hold `old`.
  rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  delete old;
}

absl::Status TenantManager::Upsert(const TenantSpec& spec) {
  absl::MutexLock lock(&mu_);
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
    slot_used_[slot] = true;
    Tenant& t = tenants_[spec.name];
    t.spec = spec;
    t.slot = slot;
    for (int b = 0; b < 2; ++b) {
      t.tables[b] = std::make_unique<RouteTable>(TableName(slot, b));
    }
    Publish(/*reclassified=*/true);
    return absl::OkStatus();
  }

  Tenant& t = it->second;
  const gro::ContextConfig old_cfg = ContextConfigOf(t.spec);
  const gro::ContextConfig new_cfg = ContextConfigOf(spec);
  if (std::memcmp(&old_cfg, &new_cfg, sizeof(old_cfg)) != 0) {
    // Held packets are flushed out before the new context takes over.
    WorkerCommand replace{WorkerCommand::Kind::kReplace, t.slot, new_cfg};
    if (absl::Status s = RunOnWorkers(replace); !s.ok()) {
      WorkerCommand undo{WorkerCommand::Kind::kReplace, t.slot, old_cfg};
      RunOnWorkers(undo).IgnoreError();
      return s;
    }
  }
  const bool reclassified = t.spec.selectors != spec.selectors;
  t.spec = spec;
  Publish(reclassified);
  return absl::OkStatus();
}

absl::Status TenantManager::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(name);
  if (it == tenants_.end()) {
    return absl::NotFoundError(absl::StrCat("no tenant '", name, "'"));
  }
  const uint16_t slot = it->second.slot;
  // Unpublish first: after the grace period no worker classifies to the
  // slot, and each one flushed what it held (new classification epoch).
  auto node = tenants_.extract(it);
  if (unmatched_ == name) unmatched_.clear();
  Publish(/*reclassified=*/true);
  WorkerCommand destroy{WorkerCommand::Kind::kDestroy, slot, {}};
  absl::Status s = RunOnWorkers(destroy);
  slot_used_[slot] = false;
  return s;  // node (and its route tables) freed here, after the grace period
}

absl::Status TenantManager::SetUnmatched(const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  if (!tenant.empty() && !tenants_.contains(tenant)) {
    return absl::NotFoundError(absl::StrCat("no tenant '", tenant, "'"));
  }
  unmatched_ = tenant;
  Publish(/*reclassified=*/true);
  return absl::OkStatus();
}

absl::Status TenantManager::Apply(RouteTable* table, size_t v4, size_t v6,
                                  const std::vector<RouteHint>& added,
                                  const std::vector<IpPrefix>& removed,
                                  const std::function<HintMap()>& target) {
  if (table->Fits(v4, v6)) {
    bool ok = true;
    for (const IpPrefix& p : removed) ok = ok && table->Remove(p).ok();
    for (const RouteHint& h : added) ok = ok && table->Add(h).ok();
    if (ok) return absl::OkStatus();
  }
  // Too small (or an incremental step failed): rebuild to size. Only here
  // does a change cost time in proportion to all of the tenant's hints.
  return table->Build(target());
}

absl::Status TenantManager::ChangeHints(const std::string& tenant,
                                        const std::vector<RouteHint>& added,
                                        const std::vector<IpPrefix>& removed) {
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) {
    return absl::NotFoundError(absl::StrCat("no tenant '", tenant, "'"));
  }
  Tenant& t = it->second;
  // Counts after the change, computed without copying the tenant's hints.
  size_t v4 = t.v4_hints, v6 = t.v6_hints;
  std::vector<IpPrefix> gone;
  for (const IpPrefix& p : removed) {
    if (t.hints.contains(p)) {
      gone.push_back(p);
      --(p.is_v6 ? v6 : v4);
    }
  }
  for (const RouteHint& h : added) {
    if (!t.hints.contains(h.prefix)) ++(h.prefix.is_v6 ? v6 : v4);
  }
  if (added.empty() && gone.empty()) return absl::OkStatus();
  auto changed = [&] {
    HintMap m = t.hints;
    for (const IpPrefix& p : gone) m.erase(p);
    for (const RouteHint& h : added) m[h.prefix] = h.mode;
    return m;
  };

  RouteTable* spare = t.tables[1 - t.published].get();
  if (absl::Status s = Apply(spare, v4, v6, added, gone, changed); !s.ok()) {
    // Nothing was published: put the spare back to the current hints.
    spare->Build(t.hints).IgnoreError();
    return s;
  }
  for (const IpPrefix& p : gone) t.hints.erase(p);
  for (const RouteHint& h : added) t.hints[h.prefix] = h.mode;
  t.v4_hints = v4;
  t.v6_hints = v6;
  t.published = 1 - t.published;
  Publish(/*reclassified=*/false);
  // The old table is now unused by every worker: bring it up to date.
  return Apply(t.tables[1 - t.published].get(), v4, v6, added, gone,
               [&] { return t.hints; });
}

absl::Status TenantManager::AddHints(const std::string& tenant,
                                     const std::vector<RouteHint>& hints) {
  return ChangeHints(tenant, hints, {});
}

absl::Status TenantManager::RemoveHints(const std::string& tenant,
                                        const std::vector<IpPrefix>& prefixes) {
  return ChangeHints(tenant, {}, prefixes);
}

void TenantManager::AddStats(StatsSnapshot* stats) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [name, t] : tenants_) {
    TenantCounters c;
    c.tenant = name;
    for (const Worker* w : workers_) w->gro().AddCounters(t.slot, &c);
    stats->tenants.push_back(std::move(c));
  }
  TenantCounters unmatched;
  unmatched.tenant = "_unmatched";
  for (const Worker* w : workers_) {
    unmatched.packets_in += ReadCounter(w->gro().unmatched_packets());
    unmatched.bytes_in += ReadCounter(w->gro().unmatched_bytes());
  }
  unmatched.packets_out = unmatched.bypass_packets = unmatched.packets_in;
  stats->tenants.push_back(std::move(unmatched));
  stats->config_generation = generation_;
}

}  // namespace grod::dataplane
