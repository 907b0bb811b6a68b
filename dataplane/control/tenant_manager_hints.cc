// TenantManager: route hints, double-buffered (see tenant_manager.h).
#include "absl/strings/str_cat.h"
#include "dataplane/control/tenant_manager.h"  // the class these methods are of

namespace grod::dataplane {

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
  if (absl::Status s = Quiesce(); !s.ok()) return s;
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
  if (t.spare_stale) {
    // Quiesce() made sure no worker reads it any more.
    if (absl::Status s = spare->Build(t.hints); !s.ok()) return s;
    t.spare_stale = false;
  }
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
  if (absl::Status s = Publish(SlotSet()); !s.ok()) {
    // A stalled worker may still read the old table: leave it alone.
    t.spare_stale = true;
    return s;
  }
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

}  // namespace grod::dataplane
