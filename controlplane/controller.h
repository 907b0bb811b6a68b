// The owner of grod's desired configuration.
//
// Every change follows one sequence under `mu_` (control path only; the
// data plane never takes it): validate -> apply to the DataPlane -> update
// memory -> persist -> reply. If the data plane rejects the change nothing
// else happens; if persisting fails, memory and the data plane are rolled
// back. So a failed call changes nothing anywhere, and an acknowledged one
// is on disk. Knows nothing about gRPC or authorization (see service.h).
#ifndef GROD_CONTROLPLANE_CONTROLLER_H_
#define GROD_CONTROLPLANE_CONTROLLER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/dataplane.h"
#include "controlplane/api_limits.h"
#include "controlplane/desired_state.h"
#include "proto/grod/v1/config.pb.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::controlplane {

// What Bootstrap does with a state file that parses but cannot be applied
// (more tenants, hints or held packets than this machine admits, or the
// data plane refuses it, e.g. fewer hugepages after a reboot).
// Shipped configs named the state file "state.textproto" (it held binary);
// they now say "state.binpb". When the configured file is absent and a file
// of this name sits in its directory, Bootstrap takes the state from it.
inline constexpr char kLegacyStateName[] = "state.textproto";

enum class StateRecovery {
  kFail,        // refuse to start, saying how to recover
  kQuarantine,  // move it to "<file>.rejected-<time>", start from the config
};

class Controller {
 public:
  // `state_file` empty = no persistence.
  Controller(DataPlane* dp, std::string state_file, bool discard_corrupt_state,
             Limits limits = DefaultLimits(),
             StateRecovery recovery = StateRecovery::kFail);

  // See bootstrap.h for how the config and the state file combine.
  absl::Status Bootstrap(const v1::GrodConfig& config);
  // Everything Bootstrap checks before it applies anything -- the config's
  // tenants and hints, the state file (only read), their merge, the API
  // limits and the mbuf admission against the data plane's budget -- and
  // nothing else: no data-plane call, no file written or moved.
  absl::Status CheckBootstrap(const v1::GrodConfig& config) const;
  // Where Bootstrap moved a state file it could not use ("" = it did not).
  std::string quarantined_state() const;

  // Mutations: `deadline` is checked once the lock is held, so a request
  // that waited past its deadline is not applied behind the client's back.
  absl::StatusOr<v1::Tenant> CreateTenant(const v1::Tenant& tenant,
                                          absl::Time deadline);
  absl::StatusOr<v1::Tenant> UpdateTenant(const v1::UpdateTenantRequest& req,
                                          absl::Time deadline);
  // `etag`: if non-empty, must be the tenant's current one (else ABORTED).
  absl::Status DeleteTenant(const std::string& name, absl::Time deadline,
                            const std::string& etag = "");
  // Makes the tenants and hints exactly `req`'s (grod.proto ApplyConfig):
  // validates everything, then applies every difference to the data plane
  // (undoing them all if one fails), memory and disk as one generation.
  absl::StatusOr<v1::ApplyConfigResponse> ApplyConfig(
      const v1::ApplyConfigRequest& req, absl::Time deadline);
  absl::StatusOr<v1::FlushPolicy> SetFlushPolicy(
      const v1::SetFlushPolicyRequest& req, absl::Time deadline);
  absl::StatusOr<v1::AddRouteHintsResponse> AddRouteHints(
      const v1::AddRouteHintsRequest& req, absl::Time deadline);
  absl::StatusOr<v1::RemoveRouteHintsResponse> RemoveRouteHints(
      const v1::RemoveRouteHintsRequest& req, absl::Time deadline);

  absl::StatusOr<v1::Tenant> GetTenant(const std::string& name) const;
  // `only`, if set, restricts the listing to that tenant (tenant
  // credentials see only their own).
  absl::StatusOr<v1::ListTenantsResponse> ListTenants(
      const v1::ListTenantsRequest& req,
      const std::optional<std::string>& only) const;
  absl::StatusOr<v1::FlushPolicy> GetFlushPolicy(const std::string& name) const;
  absl::StatusOr<v1::ListRouteHintsResponse> ListRouteHints(
      const v1::ListRouteHintsRequest& req) const;

  bool HasTenant(const std::string& name) const;
  int tenant_count() const;
  uint64_t generation() const;
  absl::Time last_change_time() const;

 private:
  // Starts a mutation: the deadline check.
  absl::Status CheckDeadline(absl::Time deadline) const;
  // Etags are the generation that last changed the resource: opaque to
  // clients, unique for the life of the state file.
  static std::string EtagOf(uint64_t generation);
  // The etag the mutation in progress gives what it changes.
  std::string NextEtag() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ABORTED naming `field` unless `etag` is empty or `current`'s.
  absl::Status CheckEtag(const std::string& etag, const v1::Tenant& current,
                         absl::string_view field) const;
  // ApplyConfig's parts (controller_apply.cc).
  struct ApplyPlan;
  absl::StatusOr<DesiredState> DesiredFromRequest(
      const v1::ApplyConfigRequest& req) const;
  absl::StatusOr<ApplyPlan> PlanApply(DesiredState desired) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The limits (tenants, route hints, held packets) a plan's resulting
  // state must keep: RESOURCE_EXHAUSTED naming the limit if not.
  absl::Status AdmitPlan(const DesiredState& next) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyToDataPlane(const ApplyPlan& plan,
                                std::vector<std::function<void()>>* undo)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a mutation whose data-plane part and memory update are done:
  // bumps the generation and persists. On failure runs `undo_memory` then
  // `undo_dataplane` and returns the error.
  absl::Status Commit(const std::function<void()>& undo_memory,
                      const std::function<void()>& undo_dataplane)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Persist() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct BootstrapPlan {
    DesiredState state;        // what to apply
    DesiredState config_only;  // the config's own state
    bool uses_state_file = false;
    // The state came from the legacy file (see kLegacyStateName), to be
    // renamed "<it>.migrated" once the state is saved under the new name.
    std::string legacy_file;
    // Why the state file is not used (corrupt: DATA_LOSS; not admissible
    // here: RESOURCE_EXHAUSTED); OK if it is, or there is none.
    absl::Status rejected;
  };
  // The legacy state file next to `state_file`, if one exists ("" if not).
  static std::string LegacyStatePath(const std::string& state_file);
  // Bootstrap's checks (see CheckBootstrap).
  absl::StatusOr<BootstrapPlan> PlanBootstrap(
      const v1::GrodConfig& config) const;
  // Bootstrap's handling of an unusable state file: DATA_LOSS/other error
  // unless the recovery settings allow moving it aside.
  absl::Status Quarantine(const absl::Status& why, bool corrupt,
                          const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The file the plan's state came from.
  std::string StateSource(const BootstrapPlan& plan) const;
  // The error for a state file the recovery settings keep.
  absl::Status UnusableState(const absl::Status& why, bool corrupt) const;
  // Undoes a partial ApplyAll (bootstrap only).
  void RemoveAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pushes the whole desired state to the data plane (bootstrap only).
  absl::Status ApplyAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Re-creates a tenant and its hints in the data plane (rollback of a
  // delete whose persisting failed).
  void RestoreTenant(const TenantState& ts) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks the tenant against others and the data plane's ports; applies it.
  absl::StatusOr<v1::Tenant> Normalize(const v1::Tenant& tenant,
                                       const std::string& field) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Tenant WithHintCount(const TenantState& ts) const;

  DataPlane* const dp_;
  const std::string state_file_;
  const bool discard_corrupt_state_;
  const Limits limits_;
  const StateRecovery recovery_;

  mutable absl::Mutex mu_;
  DesiredState state_ ABSL_GUARDED_BY(mu_);
  absl::Time last_change_ ABSL_GUARDED_BY(mu_) = absl::Now();
  std::string quarantined_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_CONTROLLER_H_
