// The control side of the multi-tenant data plane. It owns the desired
// tenant set, hands workers immutable ConfigSnapshots (swapped atomically,
// old ones freed after an rte_rcu_qsbr grace period) and changes what each
// worker owns (its GRO contexts) through per-lcore command rings.
//
// Route hints are double-buffered: each tenant has two RouteTables; a change
// is applied to the one no snapshot publishes, that one is published, and
// after the grace period the same change is applied to the other. Workers
// therefore never see a half-applied batch, and lookups never race with
// updates.
//
// Thread-safe: calls are serialised by a mutex that workers never take.
//
// A worker the liveness monitor marks stalled (WorkerHandle::stalled()) makes
// every change fail at once with UNAVAILABLE naming its lcore; a worker
// that stalls while a change waits for it fails that change within the
// monitor's detection time, and never leaves the caller hanging on the
// mutex. Commands are copied into the workers' rings and retired snapshots
// wait for a later grace period, so giving up on a worker frees nothing it
// may still read.
#ifndef GROD_DATAPLANE_CONTROL_TENANT_MANAGER_H_
#define GROD_DATAPLANE_CONTROL_TENANT_MANAGER_H_

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/dataplane_types.h"
#include "dataplane/runtime/worker_command.h"
#include "dataplane/runtime/worker_handle.h"
#include "dataplane/tenant/config_snapshot.h"
#include "dataplane/tenant/reclassification.h"
#include "dataplane/tenant/route_table.h"

namespace grod::dataplane {

class TenantManager {
 public:
  // `qsbr` is the workers' RCU variable; `vxlan_port` goes into every
  // tenant's GRO contexts.
  TenantManager(rte_rcu_qsbr* qsbr, uint16_t vxlan_port, bool verify_checksums);
  ~TenantManager();

  // Test hook: makes the worker on `lcore` stop polling for `duration`
  // (no heartbeat, no quiescent state), as a stuck lcore would. Returns
  // once the worker has begun the stall (or, if it is stuck already, after
  // the stall was queued for it). NOT_FOUND if no worker runs there.
  absl::Status StallWorkerForTest(unsigned lcore, absl::Duration duration);

  // Where workers read the current snapshot (never null).
  const std::atomic<const ConfigSnapshot*>* snapshot() const {
    return &current_;
  }
  // The workers commands go to; set once, before any tenant exists.
  void AttachWorkers(std::vector<WorkerHandle*> workers);

  absl::Status Upsert(const TenantSpec& spec);
  absl::Status Remove(const std::string& name);
  absl::Status AddHints(const std::string& tenant,
                        const std::vector<RouteHint>& hints);
  absl::Status RemoveHints(const std::string& tenant,
                           const std::vector<IpPrefix>& prefixes);
  absl::Status SetUnmatched(const std::string& tenant);

  // Appends one TenantCounters per tenant (and "_unmatched" for traffic no
  // tenant claimed), summed over workers.
  void AddStats(StatsSnapshot* stats) const;
  uint64_t generation() const;

 private:
  struct Tenant {
    TenantSpec spec;
    uint16_t slot = 0;
    HintMap hints;
    size_t v4_hints = 0, v6_hints = 0;
    std::unique_ptr<RouteTable> tables[2];
    int published = 0;  // index of the table snapshots point to
    // The unpublished table missed a change (its publication failed while
    // a worker was stalled): rebuilt before its next use.
    bool spare_stale = false;
  };

  gro::ContextConfig ContextConfigOf(const TenantSpec& spec) const;
  // Builds and publishes a snapshot of tenants_, then waits until no
  // worker can still read the previous one and frees it. The slots in
  // `reclassified` get a new classification epoch: workers flush them
  // before classifying under the new snapshot. Fails if a worker stalled
  // (the snapshot is published all the same; the previous one is freed
  // after a later grace period).
  absl::Status Publish(const SlotSet& reclassified)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Called first by every change: fails if a worker is stalled, and waits
  // until no worker can read a snapshot retired while one was (then frees
  // those and what they pointed to).
  absl::Status Quiesce() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The tenants (slots) that may lose traffic to another tenant when the
  // selectors in `changed` are added or removed, computed on the current
  // (old) tenants_: those with a selector overlapping a changed one, and
  // the unmatched tenant unless an old selector covers the changed one.
  SlotSet LosersOf(const std::vector<TrafficSelector>& changed) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `cmd` on every worker and waits for all of them.
  absl::Status RunOnWorkers(const WorkerCommand& cmd)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // UNAVAILABLE naming the stalled worker lcores, if any.
  absl::Status CheckWorkersAlive() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckSelectors(const TenantSpec& spec) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds/removes one batch of hints, both tables double-buffered.
  absl::Status ChangeHints(const std::string& tenant,
                           const std::vector<RouteHint>& added,
                           const std::vector<IpPrefix>& removed);
  // Applies `removed` then `added` to `table`, which then holds v4 + v6
  // hints; incrementally when it has room, else rebuilt from target().
  static absl::Status Apply(RouteTable* table, size_t v4, size_t v6,
                            const std::vector<RouteHint>& added,
                            const std::vector<IpPrefix>& removed,
                            const std::function<HintMap()>& target);

  rte_rcu_qsbr* const qsbr_;
  const uint16_t vxlan_port_;
  const bool verify_checksums_;
  const uint64_t tsc_hz_;
  std::atomic<const ConfigSnapshot*> current_;

  mutable absl::Mutex mu_;
  std::vector<WorkerHandle*> workers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Tenant> tenants_ ABSL_GUARDED_BY(mu_);
  std::string unmatched_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  // TenantRuntime::reclassified_epoch of every slot.
  uint64_t reclassified_epoch_[kMaxTenants] ABSL_GUARDED_BY(mu_) = {};
  bool slot_used_[kMaxTenants] ABSL_GUARDED_BY(mu_) = {};
  // Snapshots unpublished while a worker was stalled, with the RCU token
  // after which they may be freed.
  std::vector<std::pair<uint64_t, const ConfigSnapshot*>> retired_
      ABSL_GUARDED_BY(mu_);
  // Route tables of tenants removed meanwhile, which those may point to.
  std::vector<std::unique_ptr<RouteTable>> retired_tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_CONTROL_TENANT_MANAGER_H_
