// The desired configuration the controller owns, and its persisted form.
//
// Tenants are kept as normalised grod.v1.Tenant protos (the API's view,
// including timestamps) and hints as an ordered map keyed by prefix, which
// gives ListRouteHints its stable order and O(log n) page starts.
#ifndef GROD_CONTROLPLANE_DESIRED_STATE_H_
#define GROD_CONTROLPLANE_DESIRED_STATE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataplane_types.h"
#include "controlplane/state.pb.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::controlplane {

struct TenantState {
  v1::Tenant tenant;  // normalised; route_hint_count is filled on output
  std::map<IpPrefix, GroMode> hints;
};

struct DesiredState {
  std::map<std::string, TenantState> tenants;  // by name: List order
  std::string unmatched_tenant;
  // Names deleted through the API and not re-created since (bootstrap.h).
  std::set<std::string> deleted_tenants;
  uint64_t generation = 0;
};

PersistedState ToPersisted(const DesiredState& state);

// Rebuilds and re-validates a persisted state: a file that parses but
// breaks an invariant (bad prefix, hints of an unknown tenant, ...) is as
// corrupt as one that does not parse.
absl::StatusOr<DesiredState> FromPersisted(const PersistedState& persisted);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_DESIRED_STATE_H_
