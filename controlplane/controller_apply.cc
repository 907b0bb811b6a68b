// Controller::ApplyConfig (part of the :controller target): declarative
// configuration. The desired set is validated whole, compared with the
// current state, and the difference is applied to the data plane step by
// step with an undo for each step, so a refusal half-way leaves the data
// plane, memory and disk as they were.
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "controlplane/admission.h"
#include "controlplane/bootstrap.h"
#include "controlplane/controller.h"
#include "controlplane/convert.h"
#include "controlplane/limits.h"
#include "controlplane/prefix.h"
#include "controlplane/status_details.h"
#include "controlplane/update_mask.h"

namespace grod::controlplane {

namespace {

using Hints = std::map<IpPrefix, GroMode>;

void LogUndoFailure(const absl::Status& s) {
  if (s.ok()) return;
  GROD_LOG(ERROR,
           "control plane: undoing ApplyConfig in the data plane failed: ",
           s.ToString());
}

// Calls `fn` with `list` in request-sized batches.
template <typename T, typename Fn>
absl::Status Batched(const std::vector<T>& list, Fn fn) {
  for (size_t at = 0; at < list.size(); at += kMaxHintsPerRequest) {
    const size_t end =
        std::min(list.size(), at + static_cast<size_t>(kMaxHintsPerRequest));
    std::vector<T> batch(list.begin() + at, list.begin() + end);
    if (absl::Status s = fn(batch); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// What changes in one tenant's hints.
struct HintDiff {
  std::vector<RouteHint> upsert;    // added or with a new mode
  std::vector<RouteHint> previous;  // the replaced ones' old modes
  std::vector<IpPrefix> added;      // the new prefixes among `upsert`
  std::vector<RouteHint> removed;   // with their old modes
};

HintDiff DiffHints(const Hints& from, const Hints& to, const std::string& name,
                   v1::ApplyConfigResponse* resp) {
  HintDiff d;
  auto change = [&](v1::ConfigChange::Action action, const IpPrefix& p) {
    v1::ConfigChange* c = resp->add_changes();
    c->set_action(action);
    c->set_tenant(name);
    c->set_prefix(FormatIpPrefix(p));
    return c;
  };
  for (const auto& [prefix, mode] : to) {
    auto it = from.find(prefix);
    if (it == from.end()) {
      d.upsert.push_back({prefix, mode});
      d.added.push_back(prefix);
      change(v1::ConfigChange::ADD_ROUTE_HINT, prefix)
          ->set_mode_after(ToProto(mode));
    } else if (it->second != mode) {
      d.upsert.push_back({prefix, mode});
      d.previous.push_back({prefix, it->second});
      v1::ConfigChange* c = change(v1::ConfigChange::CHANGE_ROUTE_HINT, prefix);
      c->set_mode_before(ToProto(it->second));
      c->set_mode_after(ToProto(mode));
    }
  }
  for (const auto& [prefix, mode] : from) {
    if (to.contains(prefix)) continue;
    d.removed.push_back({prefix, mode});
    change(v1::ConfigChange::REMOVE_ROUTE_HINT, prefix)
        ->set_mode_before(ToProto(mode));
  }
  return d;
}

}  // namespace

struct Controller::ApplyPlan {
  DesiredState next;  // the state after, generation not yet bumped
  std::vector<std::string> deleted;
  std::vector<std::string> updated;  // previous versions stay in state_
  std::vector<std::string> created;
  std::map<std::string, HintDiff> hints;  // tenants whose hints change
  v1::ApplyConfigResponse response;       // the changes
};

absl::StatusOr<DesiredState> Controller::DesiredFromRequest(
    const v1::ApplyConfigRequest& req) const {
  std::set<uint32_t> ports;
  for (const PortInfo& p : dp_->Ports()) ports.insert(p.port_id);
  return StateFromTenants(req.tenants(), req.route_hints(), absl::Now(), "",
                          ports.empty() ? nullptr : &ports);
}

absl::StatusOr<Controller::ApplyPlan> Controller::PlanApply(
    DesiredState desired) const {
  ApplyPlan plan;
  v1::ApplyConfigResponse& resp = plan.response;
  auto tenant_change = [&](v1::ConfigChange::Action action,
                           const std::string& name) {
    v1::ConfigChange* c = resp.add_changes();
    c->set_action(action);
    c->set_tenant(name);
    return c;
  };
  const std::string etag = NextEtag();
  plan.next = state_;
  DesiredState& next = plan.next;
  for (const auto& [name, ts] : state_.tenants) {
    if (desired.tenants.contains(name)) continue;
    plan.deleted.push_back(name);
    *tenant_change(v1::ConfigChange::DELETE_TENANT, name)->mutable_before() =
        WithHintCount(ts);
    next.tenants.erase(name);
    next.deleted_tenants.insert(name);
    if (next.unmatched_tenant == name) next.unmatched_tenant.clear();
  }
  for (auto& [name, want] : desired.tenants) {
    auto it = state_.tenants.find(name);
    if (it == state_.tenants.end()) {
      plan.created.push_back(name);
      want.tenant.set_etag(etag);
      TenantState& added = next.tenants[name];
      added.tenant = want.tenant;
      next.deleted_tenants.erase(name);
      v1::ConfigChange* c =
          tenant_change(v1::ConfigChange::CREATE_TENANT, name);
      *c->mutable_after() = want.tenant;
      c->mutable_after()->set_route_hint_count(
          static_cast<uint32_t>(want.hints.size()));
      continue;
    }
    const v1::Tenant& have = it->second.tenant;
    if (SameSettings(have, want.tenant)) continue;
    plan.updated.push_back(name);
    v1::Tenant after = want.tenant;
    *after.mutable_create_time() = have.create_time();
    after.set_etag(etag);
    next.tenants[name].tenant = after;
    v1::ConfigChange* c = tenant_change(v1::ConfigChange::UPDATE_TENANT, name);
    *c->mutable_changed_fields() = ChangedFields(have, after);
    *c->mutable_before() = WithHintCount(it->second);
    *c->mutable_after() = after;
    c->mutable_after()->set_route_hint_count(
        static_cast<uint32_t>(want.hints.size()));
  }
  for (const auto& [name, want] : desired.tenants) {
    auto it = state_.tenants.find(name);
    static const Hints kNone;
    const Hints& have = it == state_.tenants.end() ? kNone : it->second.hints;
    if (have == want.hints) continue;
    plan.hints[name] = DiffHints(have, want.hints, name, &resp);
    TenantState& ts = next.tenants[name];
    ts.hints = want.hints;
    ts.tenant.set_etag(etag);
    *ts.tenant.mutable_update_time() = ToProtoTime(absl::Now());
  }
  if (resp.changes_size() == 0) return plan;
  if (absl::Status s = AdmitPlan(next); !s.ok()) return s;
  return plan;
}

absl::Status Controller::AdmitPlan(const DesiredState& next) const {
  // Selector clashes need no check here: `next` holds exactly the desired
  // tenants, which StateFromTenants checked against each other.
  if (next.tenants.size() > limits_.max_tenants) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tenants: ", next.tenants.size(), " tenants; at most ",
                     limits_.max_tenants, " (limits.max_tenants)"));
  }
  if (const uint64_t n = RouteHintCount(next.tenants);
      n > limits_.max_route_hints && n > RouteHintCount(state_.tenants)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "route_hints: all tenants would have ", n, " route hints; at most ",
        limits_.max_route_hints, " (limits.max_route_hints)"));
  }
  // As in UpdateTenant: lowering is always admitted.
  if (const uint64_t sum = HeldPacketsSum(next.tenants, nullptr);
      sum > HeldPacketsSum(state_.tenants, nullptr)) {
    return AdmitHeldPackets(sum, dp_->Mbufs(),
                            "tenants[].quotas.max_held_packets");
  }
  return absl::OkStatus();
}

absl::Status Controller::ApplyToDataPlane(
    const ApplyPlan& plan, std::vector<std::function<void()>>* undo) {
  for (const std::string& name : plan.deleted) {
    const TenantState& old = state_.tenants.at(name);
    if (state_.unmatched_tenant == name) {
      if (absl::Status s = dp_->SetUnmatchedTenant(""); !s.ok()) return s;
      undo->push_back(
          [this, name] { LogUndoFailure(dp_->SetUnmatchedTenant(name)); });
    }
    if (absl::Status s = dp_->RemoveTenant(name); !s.ok()) return s;
    undo->push_back([this, &old] {
      absl::Status r = dp_->UpsertTenant(ToTenantSpec(old.tenant));
      if (r.ok()) {
        std::vector<RouteHint> hints;
        for (const auto& [p, m] : old.hints) hints.push_back({p, m});
        r = Batched(hints, [&](const std::vector<RouteHint>& b) {
          return dp_->AddRouteHints(old.tenant.name(), b);
        });
      }
      LogUndoFailure(r);
    });
  }
  for (const std::string& name : plan.updated) {
    const v1::Tenant& old = state_.tenants.at(name).tenant;
    const v1::Tenant& now = plan.next.tenants.at(name).tenant;
    if (absl::Status s = dp_->UpsertTenant(ToTenantSpec(now)); !s.ok()) {
      return s;
    }
    undo->push_back(
        [this, &old] { LogUndoFailure(dp_->UpsertTenant(ToTenantSpec(old))); });
  }
  for (const std::string& name : plan.created) {
    const v1::Tenant& now = plan.next.tenants.at(name).tenant;
    if (absl::Status s = dp_->UpsertTenant(ToTenantSpec(now)); !s.ok()) {
      return s;
    }
    undo->push_back([this, name] { LogUndoFailure(dp_->RemoveTenant(name)); });
  }
  for (const auto& [name, d] : plan.hints) {
    const std::string& tenant = name;
    if (!d.removed.empty()) {
      std::vector<IpPrefix> prefixes;
      for (const RouteHint& h : d.removed) prefixes.push_back(h.prefix);
      if (absl::Status s = Batched(prefixes,
                                   [&](const std::vector<IpPrefix>& b) {
                                     return dp_->RemoveRouteHints(tenant, b);
                                   });
          !s.ok()) {
        return s;
      }
      undo->push_back([this, tenant, &d] {
        LogUndoFailure(Batched(d.removed, [&](const std::vector<RouteHint>& b) {
          return dp_->AddRouteHints(tenant, b);
        }));
      });
    }
    if (!d.upsert.empty()) {
      if (absl::Status s = Batched(d.upsert,
                                   [&](const std::vector<RouteHint>& b) {
                                     return dp_->AddRouteHints(tenant, b);
                                   });
          !s.ok()) {
        return s;
      }
      undo->push_back([this, tenant, &d] {
        LogUndoFailure(Batched(d.added, [&](const std::vector<IpPrefix>& b) {
          return dp_->RemoveRouteHints(tenant, b);
        }));
        LogUndoFailure(
            Batched(d.previous, [&](const std::vector<RouteHint>& b) {
              return dp_->AddRouteHints(tenant, b);
            }));
      });
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ApplyConfigResponse> Controller::ApplyConfig(
    const v1::ApplyConfigRequest& req, absl::Time deadline) {
  // Parse and validate outside the lock, as AddRouteHints does.
  absl::StatusOr<DesiredState> desired = DesiredFromRequest(req);
  if (!desired.ok()) return desired.status();

  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckDeadline(deadline); !s.ok()) return s;
  const std::string current = EtagOf(state_.generation);
  if (!req.etag().empty() && req.etag() != current) {
    return StaleEtag("etag", "configuration", current);
  }
  absl::StatusOr<ApplyPlan> plan = PlanApply(*std::move(desired));
  if (!plan.ok()) return plan.status();
  v1::ApplyConfigResponse resp = std::move(plan->response);
  if (req.dry_run() || resp.changes_size() == 0) {
    resp.set_etag(current);
    resp.set_config_generation(state_.generation);
    return resp;
  }
  std::vector<std::function<void()>> undo;
  auto undo_dataplane = [&undo] {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)();
  };
  if (absl::Status s = ApplyToDataPlane(*plan, &undo); !s.ok()) {
    undo_dataplane();
    return absl::Status(
        s.code(),
        absl::StrCat("data plane rejected the change (nothing applied): ",
                     s.message()));
  }
  DesiredState previous = std::exchange(state_, std::move(plan->next));
  // The undo steps refer to the previous tenants: they now live here.
  absl::Status s = Commit([&] { state_ = previous; }, undo_dataplane);
  if (!s.ok()) return s;
  resp.set_applied(true);
  resp.set_etag(EtagOf(state_.generation));
  resp.set_config_generation(state_.generation);
  return resp;
}

}  // namespace grod::controlplane
