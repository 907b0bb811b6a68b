#include "controlplane/admission.h"

#include "absl/strings/str_cat.h"

namespace grod::controlplane {

uint64_t HeldPacketsSum(const std::map<std::string, TenantState>& tenants,
                        const v1::Tenant* changed) {
  uint64_t sum = 0;
  for (const auto& [name, ts] : tenants) {
    if (changed != nullptr && name == changed->name()) continue;
    sum += ts.tenant.quotas().max_held_packets();
  }
  if (changed != nullptr) sum += changed->quotas().max_held_packets();
  return sum;
}

absl::Status AdmitHeldPackets(uint64_t sum, const MbufBudget& budget,
                              absl::string_view field) {
  if (budget.pool_size == 0) return absl::OkStatus();
  const uint64_t room = budget.HeldPacketsPerLcore();
  if (sum <= room) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      field, ": tenants' max_held_packets would sum to ", sum,
      " per worker lcore (x ", budget.worker_lcores, " worker lcores = ",
      sum * budget.worker_lcores, " mbufs), but the mbuf pool has ",
      budget.pool_size, " of which the data plane reserves ", budget.reserve,
      " for RX/TX rings, bursts and GSO, leaving ", room,
      " per worker lcore for held packets; lower max_held_packets, remove a "
      "tenant or raise mbufs in the config (docs/OPERATIONS.md, \"Resource "
      "admission\")"));
}

uint64_t RouteHintCount(const std::map<std::string, TenantState>& tenants) {
  uint64_t n = 0;
  for (const auto& [name, ts] : tenants) n += ts.hints.size();
  return n;
}

absl::Status AdmitState(const DesiredState& state, const Limits& limits,
                        const MbufBudget& budget) {
  if (state.tenants.size() > limits.max_tenants) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tenants: ", state.tenants.size(), " tenants; at most ",
                     limits.max_tenants, " (limits.max_tenants)"));
  }
  if (const uint64_t n = RouteHintCount(state.tenants);
      n > limits.max_route_hints) {
    return absl::ResourceExhaustedError(
        absl::StrCat("route_hints: ", n,
                     " route hints over all tenants; at "
                     "most ",
                     limits.max_route_hints, " (limits.max_route_hints)"));
  }
  return AdmitHeldPackets(HeldPacketsSum(state.tenants, nullptr), budget,
                          "tenants[].quotas.max_held_packets");
}

}  // namespace grod::controlplane
