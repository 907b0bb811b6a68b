// Admission of shared data-plane resources: tenants' held-packet quotas
// against the mbuf pool (common/dataplane_types.h MbufBudget), and the
// counts the API limits cap (api_limits.h). Every check here runs before
// anything is applied, so a refused change changes nothing.
#ifndef GROD_CONTROLPLANE_ADMISSION_H_
#define GROD_CONTROLPLANE_ADMISSION_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/dataplane_types.h"
#include "controlplane/api_limits.h"
#include "controlplane/desired_state.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::controlplane {

// Sum of the tenants' max_held_packets, with `changed` (if non-null)
// replacing the tenant of its name or added.
uint64_t HeldPacketsSum(const std::map<std::string, TenantState>& tenants,
                        const v1::Tenant* changed);

// RESOURCE_EXHAUSTED naming `field`, the quota sum, the pool size and the
// reserve unless `sum` held packets on every worker lcore fit the budget.
// A budget with pool_size 0 (data plane not started) admits everything.
absl::Status AdmitHeldPackets(uint64_t sum, const MbufBudget& budget,
                              absl::string_view field);

// Route hints over all tenants.
uint64_t RouteHintCount(const std::map<std::string, TenantState>& tenants);

// Everything a start-up state must satisfy: at most max_tenants tenants,
// max_route_hints hints, and held-packet quotas that fit `budget`.
absl::Status AdmitState(const DesiredState& state, const Limits& limits,
                        const MbufBudget& budget);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_ADMISSION_H_
