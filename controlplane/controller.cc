#include "controlplane/controller.h"

#include <unistd.h>

#include <cstdio>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "controlplane/admission.h"
#include "controlplane/bootstrap.h"
#include "controlplane/convert.h"
#include "controlplane/limits.h"
#include "controlplane/page_token.h"
#include "controlplane/prefix.h"
#include "controlplane/state_file.h"
#include "controlplane/status_details.h"
#include "controlplane/update_mask.h"
#include "controlplane/validate.h"

namespace grod::controlplane {

namespace {

absl::Status DataPlaneError(const absl::Status& s) {
  return absl::Status(
      s.code(), absl::StrCat("data plane rejected the change: ", s.message()));
}

absl::Status NoTenant(const std::string& name) { return TenantNotFound(name); }

// Pushes hints in request-sized batches; the data plane's calls are
// all-or-nothing per batch, which is all bootstrap and rollback need.
absl::Status AddHintsBatched(DataPlane* dp, const std::string& tenant,
                             const std::map<IpPrefix, GroMode>& hints) {
  std::vector<RouteHint> batch;
  for (const auto& [prefix, mode] : hints) {
    batch.push_back({prefix, mode});
    if (batch.size() == static_cast<size_t>(kMaxHintsPerRequest)) {
      if (absl::Status s = dp->AddRouteHints(tenant, batch); !s.ok()) return s;
      batch.clear();
    }
  }
  if (batch.empty()) return absl::OkStatus();
  return dp->AddRouteHints(tenant, batch);
}

void LogRollbackFailure(absl::string_view what, const absl::Status& s) {
  GROD_LOG(ERROR, "control plane: rollback of ", what,
           " in the data plane failed: ", s.ToString());
}

}  // namespace

Controller::Controller(DataPlane* dp, std::string state_file,
                       bool discard_corrupt_state, Limits limits,
                       StateRecovery recovery)
    : dp_(dp),
      state_file_(std::move(state_file)),
      discard_corrupt_state_(discard_corrupt_state),
      limits_(limits),
      recovery_(recovery) {}

absl::StatusOr<Controller::BootstrapPlan> Controller::PlanBootstrap(
    const v1::GrodConfig& config) const {
  absl::StatusOr<DesiredState> from_config =
      StateFromConfig(config, absl::Now());
  if (!from_config.ok()) return from_config.status();
  const MbufBudget budget = dp_->Mbufs();
  if (absl::Status s = AdmitState(*from_config, limits_, budget); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("config: ", s.message()));
  }
  BootstrapPlan plan;
  plan.config_only = *from_config;
  plan.state = *std::move(from_config);
  if (state_file_.empty()) return plan;

  absl::StatusOr<std::optional<PersistedState>> loaded = LoadState(state_file_);
  absl::StatusOr<DesiredState> persisted = absl::NotFoundError("absent");
  if (!loaded.ok()) {
    persisted = loaded.status();
  } else if (!loaded->has_value()) {
    const std::string legacy = LegacyStatePath(state_file_);
    if (legacy.empty()) return plan;  // no state file yet: first start
    loaded = LoadState(legacy);
    if (!loaded.ok() || !loaded->has_value()) {
      return absl::Status(
          loaded.ok() ? absl::StatusCode::kNotFound : loaded.status().code(),
          absl::StrCat("state file ", legacy, " (the old name of ", state_file_,
                       "): ", loaded.status().message()));
    }
    GROD_LOG(NOTICE, "state file ", state_file_,
             " absent; taking the state from ", legacy, ", its old name");
    plan.legacy_file = legacy;
    persisted = FromPersisted(**loaded);
  } else {
    persisted = FromPersisted(**loaded);
  }
  if (!persisted.ok()) {
    if (persisted.status().code() != absl::StatusCode::kDataLoss) {
      return absl::Status(persisted.status().code(),
                          absl::StrCat("state file ", state_file_, ": ",
                                       persisted.status().message()));
    }
    plan.rejected = persisted.status();
    return plan;
  }
  DesiredState merged = MergeStates(plan.config_only, *std::move(persisted));
  if (absl::Status s = AdmitState(merged, limits_, budget); !s.ok()) {
    plan.rejected = s;
    return plan;
  }
  plan.state = std::move(merged);
  plan.uses_state_file = true;
  return plan;
}

std::string Controller::StateSource(const BootstrapPlan& plan) const {
  return plan.legacy_file.empty() ? state_file_ : plan.legacy_file;
}

std::string Controller::LegacyStatePath(const std::string& state_file) {
  const size_t slash = state_file.rfind('/');
  const std::string legacy =
      (slash == std::string::npos ? "" : state_file.substr(0, slash + 1)) +
      kLegacyStateName;
  if (legacy == state_file || access(legacy.c_str(), F_OK) != 0) return "";
  return legacy;
}

absl::Status Controller::CheckBootstrap(const v1::GrodConfig& config) const {
  absl::StatusOr<BootstrapPlan> plan = PlanBootstrap(config);
  if (!plan.ok()) return plan.status();
  if (plan->rejected.ok()) return absl::OkStatus();
  const bool corrupt = plan->rejected.code() == absl::StatusCode::kDataLoss;
  if (corrupt ? discard_corrupt_state_
              : recovery_ == StateRecovery::kQuarantine) {
    GROD_LOG(WARNING, "note: state file ", state_file_,
             " would be moved aside at start: ", plan->rejected.message());
    return absl::OkStatus();
  }
  return UnusableState(plan->rejected, corrupt);
}

absl::Status Controller::UnusableState(const absl::Status& why,
                                       bool corrupt) const {
  if (corrupt) {
    return absl::DataLossError(absl::StrCat(
        "state file ", state_file_, " is corrupt (", why.message(),
        "); repair or remove it, or start grod with "
        "--discard_corrupt_state to move it aside and start from the "
        "config file"));
  }
  return absl::Status(
      why.code(),
      absl::StrCat("state file ", state_file_,
                   " cannot be applied on this machine (", why.message(),
                   "); start grod with --state_recovery=quarantine to move "
                   "it aside and start from the config file (see "
                   "docs/OPERATIONS.md, \"Recovery\")"));
}

absl::Status Controller::Quarantine(const absl::Status& why, bool corrupt,
                                    const std::string& path) {
  if (!(corrupt ? discard_corrupt_state_
                : recovery_ == StateRecovery::kQuarantine)) {
    return UnusableState(why, corrupt);
  }
  absl::StatusOr<std::string> aside =
      MoveAside(path, corrupt ? "corrupt" : "rejected");
  if (!aside.ok()) return aside.status();
  quarantined_ = *aside;
  GROD_LOG(WARNING, "WARNING: state file ", path, " ",
           corrupt ? "is corrupt" : "cannot be applied on this machine", " (",
           why.message(), "); moved it to ", *aside,
           " and starting from the config file. Tenants and hints made "
           "through the API since are NOT applied; see docs/OPERATIONS.md, "
           "\"Recovery\"");
  return absl::OkStatus();
}

void Controller::RemoveAll() {
  dp_->SetUnmatchedTenant("").IgnoreError();
  for (const auto& [name, ts] : state_.tenants) {
    dp_->RemoveTenant(name).IgnoreError();  // not applied yet: NOT_FOUND
  }
}

absl::Status Controller::Bootstrap(const v1::GrodConfig& config) {
  absl::StatusOr<BootstrapPlan> plan = PlanBootstrap(config);
  if (!plan.ok()) return plan.status();
  absl::MutexLock l(&mu_);
  if (!plan->rejected.ok()) {
    const bool corrupt = plan->rejected.code() == absl::StatusCode::kDataLoss;
    if (absl::Status s =
            Quarantine(plan->rejected, corrupt, StateSource(*plan));
        !s.ok()) {
      return s;
    }
  }
  state_ = std::move(plan->state);
  absl::Status applied = ApplyAll();
  // Transient refusals (a worker lcore briefly stalled, a timeout) say
  // nothing about the saved state: fail the start (the supervisor retries)
  // rather than set a good state file aside.
  const bool transient =
      applied.code() == absl::StatusCode::kUnavailable ||
      applied.code() == absl::StatusCode::kDeadlineExceeded ||
      applied.code() == absl::StatusCode::kAborted;
  if (!applied.ok() && transient) RemoveAll();
  if (!applied.ok() && !transient && plan->uses_state_file) {
    // The data plane refused the saved state (e.g. fewer hugepages than
    // when it was saved): the same recovery as for an inadmissible one.
    RemoveAll();
    if (absl::Status s = Quarantine(applied, false, StateSource(*plan));
        !s.ok()) {
      return s;
    }
    plan->legacy_file.clear();
    state_ = std::move(plan->config_only);
    applied = ApplyAll();
  }
  if (!applied.ok()) return applied;
  // Config-file tenants (and state files from before etags) get one now.
  for (auto& [name, ts] : state_.tenants) {
    if (ts.tenant.etag().empty()) ts.tenant.set_etag(EtagOf(state_.generation));
  }
  if (absl::Status s = Persist(); !s.ok()) return s;
  if (!plan->legacy_file.empty()) {
    // Saved under the new name: keep the old file for a downgrade only.
    const std::string migrated = plan->legacy_file + ".migrated";
    if (std::rename(plan->legacy_file.c_str(), migrated.c_str()) == 0) {
      GROD_LOG(NOTICE, "state now in ", state_file_, "; the old file is ",
               migrated);
    }
  }
  GROD_LOG(
      DEBUG, "control plane: bootstrap applied ", state_.tenants.size(),
      " tenant(s) at generation ", state_.generation,
      plan->uses_state_file ? " (state file and config)" : " (config only)");
  last_change_ = absl::Now();
  return absl::OkStatus();
}

std::string Controller::quarantined_state() const {
  absl::ReaderMutexLock l(&mu_);
  return quarantined_;
}

absl::Status Controller::ApplyAll() {
  for (const auto& [name, ts] : state_.tenants) {
    if (absl::Status s = dp_->UpsertTenant(ToTenantSpec(ts.tenant)); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("data plane rejected tenant ",
                                                 name, ": ", s.message()));
    }
    if (absl::Status s = AddHintsBatched(dp_, name, ts.hints); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("data plane rejected route hints of ", name,
                                 ": ", s.message()));
    }
  }
  if (!state_.unmatched_tenant.empty()) {
    if (absl::Status s = dp_->SetUnmatchedTenant(state_.unmatched_tenant);
        !s.ok()) {
      return DataPlaneError(s);
    }
  }
  return absl::OkStatus();
}

absl::Status Controller::Persist() {
  if (state_file_.empty()) return absl::OkStatus();
  absl::Status s = SaveState(state_file_, ToPersisted(state_));
  if (s.ok()) return s;
  return absl::Status(
      s.code() == absl::StatusCode::kResourceExhausted
          ? s.code()
          : absl::StatusCode::kInternal,
      absl::StrCat("cannot save state file ", state_file_, ": ", s.message()));
}

std::string Controller::EtagOf(uint64_t generation) {
  return absl::StrCat(generation);
}

std::string Controller::NextEtag() const {
  return EtagOf(state_.generation + 1);
}

absl::Status Controller::CheckEtag(const std::string& etag,
                                   const v1::Tenant& current,
                                   absl::string_view field) const {
  if (etag.empty() || etag == current.etag()) return absl::OkStatus();
  return StaleEtag(field, absl::StrCat("tenant ", current.name()),
                   current.etag());
}

absl::Status Controller::CheckDeadline(absl::Time deadline) const {
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError(
        "deadline exceeded before the change could be applied; nothing "
        "changed");
  }
  return absl::OkStatus();
}

absl::Status Controller::Commit(const std::function<void()>& undo_memory,
                                const std::function<void()>& undo_dataplane) {
  ++state_.generation;
  absl::Status s = Persist();
  if (!s.ok()) {
    --state_.generation;
    undo_memory();
    undo_dataplane();
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), " (change rolled back)"));
  }
  last_change_ = absl::Now();
  return absl::OkStatus();
}

absl::StatusOr<v1::Tenant> Controller::Normalize(
    const v1::Tenant& tenant, const std::string& field) const {
  std::set<uint32_t> ports;
  for (const PortInfo& p : dp_->Ports()) ports.insert(p.port_id);
  // Before ports are probed there is nothing to check against.
  absl::StatusOr<v1::Tenant> t =
      NormalizeTenant(tenant, field, ports.empty() ? nullptr : &ports);
  if (!t.ok()) return t;
  if (absl::Status s = CheckSelectorConflicts(state_, *t, field); !s.ok()) {
    return s;
  }
  return t;
}

v1::Tenant Controller::WithHintCount(const TenantState& ts) const {
  v1::Tenant t = ts.tenant;
  t.set_route_hint_count(static_cast<uint32_t>(ts.hints.size()));
  return t;
}

absl::StatusOr<v1::Tenant> Controller::CreateTenant(const v1::Tenant& tenant,
                                                    absl::Time deadline) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckDeadline(deadline); !s.ok()) return s;
  if (absl::Status s = ValidateTenantName(tenant.name(), "tenant.name");
      !s.ok()) {
    return s;
  }
  if (state_.tenants.contains(tenant.name())) {
    return TenantExists(tenant.name());
  }
  absl::StatusOr<v1::Tenant> t = Normalize(tenant, "tenant");
  if (!t.ok()) return t.status();
  if (state_.tenants.size() >= limits_.max_tenants) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "at most ", limits_.max_tenants, " tenants (limits.max_tenants)"));
  }
  if (absl::Status s =
          AdmitHeldPackets(HeldPacketsSum(state_.tenants, &*t), dp_->Mbufs(),
                           "tenant.quotas.max_held_packets");
      !s.ok()) {
    return s;
  }
  const auto now = ToProtoTime(absl::Now());
  *t->mutable_create_time() = now;
  *t->mutable_update_time() = now;
  t->set_etag(NextEtag());
  if (absl::Status s = dp_->UpsertTenant(ToTenantSpec(*t)); !s.ok()) {
    return DataPlaneError(s);
  }
  const std::string name = t->name();
  state_.tenants[name].tenant = *t;
  const bool was_deleted = state_.deleted_tenants.erase(name) > 0;
  absl::Status s = Commit(
      [&] {
        state_.tenants.erase(name);
        if (was_deleted) state_.deleted_tenants.insert(name);
      },
      [&] {
        if (absl::Status r = dp_->RemoveTenant(name); !r.ok()) {
          LogRollbackFailure("CreateTenant", r);
        }
      });
  if (!s.ok()) return s;
  return WithHintCount(state_.tenants[name]);
}

absl::StatusOr<v1::Tenant> Controller::UpdateTenant(
    const v1::UpdateTenantRequest& req, absl::Time deadline) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckDeadline(deadline); !s.ok()) return s;
  const std::string& name = req.tenant().name();
  if (absl::Status s = ValidateTenantName(name, "tenant.name"); !s.ok()) {
    return s;
  }
  auto it = state_.tenants.find(name);
  if (it == state_.tenants.end()) return NoTenant(name);
  if (absl::Status s =
          CheckEtag(req.tenant().etag(), it->second.tenant, "tenant.etag");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<google::protobuf::FieldMask> mask =
      ResolveUpdateMask(req.tenant(), req.update_mask());
  if (!mask.ok()) return mask.status();
  absl::StatusOr<v1::Tenant> t = Normalize(
      ApplyUpdateMask(it->second.tenant, req.tenant(), *mask), "tenant");
  if (!t.ok()) return t.status();
  // Lowering a quota is always admitted, so an over-committed state (one
  // saved before admission existed) can be brought back within the pool.
  if (const uint64_t sum = HeldPacketsSum(state_.tenants, &*t);
      sum > HeldPacketsSum(state_.tenants, nullptr)) {
    if (absl::Status s = AdmitHeldPackets(sum, dp_->Mbufs(),
                                          "tenant.quotas.max_held_packets");
        !s.ok()) {
      return s;
    }
  }
  const v1::Tenant old = it->second.tenant;
  *t->mutable_create_time() = old.create_time();
  *t->mutable_update_time() = ToProtoTime(absl::Now());
  t->set_etag(NextEtag());
  if (absl::Status s = dp_->UpsertTenant(ToTenantSpec(*t)); !s.ok()) {
    return DataPlaneError(s);
  }
  it->second.tenant = *t;
  absl::Status s = Commit([&] { it->second.tenant = old; },
                          [&] {
                            absl::Status r =
                                dp_->UpsertTenant(ToTenantSpec(old));
                            if (!r.ok()) LogRollbackFailure("UpdateTenant", r);
                          });
  if (!s.ok()) return s;
  return WithHintCount(it->second);
}

absl::StatusOr<v1::FlushPolicy> Controller::SetFlushPolicy(
    const v1::SetFlushPolicyRequest& req, absl::Time deadline) {
  v1::UpdateTenantRequest update;
  update.mutable_tenant()->set_name(req.tenant());
  *update.mutable_tenant()->mutable_flush_policy() = req.policy();
  update.mutable_update_mask()->add_paths("flush_policy");
  // Validate here so errors name this request's fields, not UpdateTenant's.
  if (absl::Status s = ValidateTenantName(req.tenant(), "tenant"); !s.ok()) {
    return s;
  }
  absl::StatusOr<v1::FlushPolicy> policy =
      NormalizeFlushPolicy(req.policy(), "policy");
  if (!policy.ok()) return policy.status();
  absl::StatusOr<v1::Tenant> t = UpdateTenant(update, deadline);
  if (!t.ok()) return t.status();
  return t->flush_policy();
}

absl::Status Controller::DeleteTenant(const std::string& name,
                                      absl::Time deadline,
                                      const std::string& etag) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckDeadline(deadline); !s.ok()) return s;
  if (absl::Status s = ValidateTenantName(name, "name"); !s.ok()) return s;
  auto it = state_.tenants.find(name);
  if (it == state_.tenants.end()) return NoTenant(name);
  if (absl::Status s = CheckEtag(etag, it->second.tenant, "etag"); !s.ok()) {
    return s;
  }
  const bool was_unmatched = state_.unmatched_tenant == name;
  if (was_unmatched) {
    // Unmatched traffic bypasses GRO once its tenant is gone.
    if (absl::Status s = dp_->SetUnmatchedTenant(""); !s.ok()) {
      return DataPlaneError(s);
    }
  }
  if (absl::Status s = dp_->RemoveTenant(name); !s.ok()) {
    if (was_unmatched) {
      if (absl::Status r = dp_->SetUnmatchedTenant(name); !r.ok()) {
        LogRollbackFailure("DeleteTenant", r);
      }
    }
    return DataPlaneError(s);
  }
  TenantState removed = std::move(it->second);
  state_.tenants.erase(it);
  state_.deleted_tenants.insert(name);
  if (was_unmatched) state_.unmatched_tenant.clear();
  return Commit(
      [&] {
        state_.tenants[name] = removed;
        state_.deleted_tenants.erase(name);
        if (was_unmatched) state_.unmatched_tenant = name;
      },
      [&] { RestoreTenant(removed); });
}

void Controller::RestoreTenant(const TenantState& ts) {
  const std::string& name = ts.tenant.name();
  absl::Status r = dp_->UpsertTenant(ToTenantSpec(ts.tenant));
  if (r.ok()) r = AddHintsBatched(dp_, name, ts.hints);
  if (r.ok() && state_.unmatched_tenant == name) {
    r = dp_->SetUnmatchedTenant(name);
  }
  if (!r.ok()) LogRollbackFailure("DeleteTenant", r);
}

absl::StatusOr<v1::Tenant> Controller::GetTenant(
    const std::string& name) const {
  if (absl::Status s = ValidateTenantName(name, "name"); !s.ok()) return s;
  absl::ReaderMutexLock l(&mu_);
  auto it = state_.tenants.find(name);
  if (it == state_.tenants.end()) return NoTenant(name);
  return WithHintCount(it->second);
}

absl::StatusOr<v1::ListTenantsResponse> Controller::ListTenants(
    const v1::ListTenantsRequest& req,
    const std::optional<std::string>& only) const {
  if (req.page_size() < 0 || req.page_size() > kMaxTenantPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be between 0 and ", kMaxTenantPageSize));
  }
  const int page_size =
      req.page_size() == 0 ? kDefaultTenantPageSize : req.page_size();
  std::string after;
  if (!req.page_token().empty()) {
    absl::StatusOr<std::string> key =
        DecodePageToken(req.page_token(), "tenants", "");
    if (!key.ok()) return key.status();
    after = *std::move(key);
  }
  absl::ReaderMutexLock l(&mu_);
  v1::ListTenantsResponse resp;
  auto it = after.empty() ? state_.tenants.begin()
                          : state_.tenants.upper_bound(after);
  for (; it != state_.tenants.end(); ++it) {
    if (only.has_value() && it->first != *only) continue;
    if (resp.tenants_size() == page_size) {
      resp.set_next_page_token(EncodePageToken(
          "tenants", "", resp.tenants(resp.tenants_size() - 1).name()));
      break;
    }
    *resp.add_tenants() = WithHintCount(it->second);
  }
  return resp;
}

absl::StatusOr<v1::FlushPolicy> Controller::GetFlushPolicy(
    const std::string& name) const {
  if (absl::Status s = ValidateTenantName(name, "tenant"); !s.ok()) return s;
  absl::ReaderMutexLock l(&mu_);
  auto it = state_.tenants.find(name);
  if (it == state_.tenants.end()) return NoTenant(name);
  return it->second.tenant.flush_policy();
}

bool Controller::HasTenant(const std::string& name) const {
  absl::ReaderMutexLock l(&mu_);
  return state_.tenants.contains(name);
}

int Controller::tenant_count() const {
  absl::ReaderMutexLock l(&mu_);
  return static_cast<int>(state_.tenants.size());
}

uint64_t Controller::generation() const {
  absl::ReaderMutexLock l(&mu_);
  return state_.generation;
}

absl::Time Controller::last_change_time() const {
  absl::ReaderMutexLock l(&mu_);
  return last_change_;
}

}  // namespace grod::controlplane
