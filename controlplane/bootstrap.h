// Building the initial desired state from the config file and the state
// file.
//
// Rule: the state file wins. A tenant present in the state file is taken
// from it (settings and hints); a config-file tenant absent from it is
// added, unless it was deleted through the API (the state file remembers
// such deletions); the state file's unmatched tenant wins over the
// config's. So API changes survive restarts, and tenants newly added to
// the config file still appear.
#ifndef GROD_CONTROLPLANE_BOOTSTRAP_H_
#define GROD_CONTROLPLANE_BOOTSTRAP_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/desired_state.h"
#include "proto/grod/v1/config.pb.h"

namespace grod::controlplane {

// Validates the config's tenants, hints and unmatched tenant as the API
// would (INVALID_ARGUMENT naming "config: tenants[2]...", FAILED_PRECONDITION
// for selector clashes, RESOURCE_EXHAUSTED for limits).
absl::StatusOr<DesiredState> StateFromConfig(const v1::GrodConfig& config,
                                             absl::Time now);

// The tenants and hints of a config file (`where` = "config: ") or of an
// ApplyConfig request (`where` = ""), validated as CreateTenant and
// AddRouteHints would; errors start with `where` and name the field
// ("tenants[2].flush_policy.timeout: ..."). `known_ports` as in
// NormalizeTenant.
absl::StatusOr<DesiredState> StateFromTenants(
    const google::protobuf::RepeatedPtrField<v1::Tenant>& tenants,
    const google::protobuf::RepeatedPtrField<v1::TenantRouteHints>& route_hints,
    absl::Time now, absl::string_view where,
    const std::set<uint32_t>* known_ports);

// Combines both per the rule above.
DesiredState MergeStates(DesiredState from_config, DesiredState persisted);

// FAILED_PRECONDITION naming `field` if a selector of `tenant` is identical
// to one of another tenant in `state`.
absl::Status CheckSelectorConflicts(const DesiredState& state,
                                    const v1::Tenant& tenant,
                                    const std::string& field);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_BOOTSTRAP_H_
