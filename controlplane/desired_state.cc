#include "controlplane/desired_state.h"

#include "absl/strings/str_cat.h"
#include "controlplane/convert.h"
#include "controlplane/prefix.h"
#include "controlplane/validate.h"

namespace grod::controlplane {

inline constexpr char kMagic[] = "grod-state";

PersistedState ToPersisted(const DesiredState& state) {
  PersistedState out;
  out.set_magic(kMagic);
  out.set_format_version(1);
  out.set_config_generation(state.generation);
  for (const auto& [name, ts] : state.tenants) {
    *out.add_tenants() = ts.tenant;
    if (ts.hints.empty()) continue;
    v1::TenantRouteHints* rh = out.add_route_hints();
    rh->set_tenant(name);
    rh->mutable_hints()->Reserve(static_cast<int>(ts.hints.size()));
    for (const auto& [prefix, mode] : ts.hints) {
      v1::RouteHint* h = rh->add_hints();
      h->set_prefix(FormatIpPrefix(prefix));
      h->set_mode(ToProto(mode));
    }
  }
  out.set_unmatched_tenant(state.unmatched_tenant);
  for (const std::string& name : state.deleted_tenants) {
    out.add_deleted_tenants(name);
  }
  out.set_complete(true);
  return out;
}

absl::StatusOr<DesiredState> FromPersisted(const PersistedState& p) {
  if (p.magic() != kMagic) {
    return absl::DataLossError("not a grod state file (bad magic)");
  }
  if (p.format_version() != 1) {
    return absl::DataLossError(
        absl::StrCat("unsupported format_version ", p.format_version()));
  }
  if (!p.complete()) {
    return absl::DataLossError("file is truncated (no completion marker)");
  }
  DesiredState state;
  state.generation = p.config_generation();
  for (int i = 0; i < p.tenants_size(); ++i) {
    const v1::Tenant& t = p.tenants(i);
    absl::StatusOr<v1::Tenant> norm =
        NormalizeTenant(t, absl::StrCat("tenants[", i, "]"), nullptr);
    if (!norm.ok()) return absl::DataLossError(norm.status().message());
    TenantState ts;
    ts.tenant = *std::move(norm);
    *ts.tenant.mutable_create_time() = t.create_time();
    *ts.tenant.mutable_update_time() = t.update_time();
    ts.tenant.set_etag(t.etag());
    if (!state.tenants.emplace(t.name(), std::move(ts)).second) {
      return absl::DataLossError(
          absl::StrCat("tenant ", t.name(), " appears twice"));
    }
  }
  for (const v1::TenantRouteHints& rh : p.route_hints()) {
    auto it = state.tenants.find(rh.tenant());
    if (it == state.tenants.end()) {
      return absl::DataLossError(
          absl::StrCat("route hints for unknown tenant ", rh.tenant()));
    }
    for (const v1::RouteHint& h : rh.hints()) {
      absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(h.prefix());
      if (!prefix.ok()) return absl::DataLossError(prefix.status().message());
      if (!ValidateHintMode(h.mode(), "mode").ok()) {
        return absl::DataLossError(
            absl::StrCat("bad mode for hint ", h.prefix()));
      }
      it->second.hints[*prefix] = ToGroMode(h.mode());
    }
  }
  if (!p.unmatched_tenant().empty() &&
      !state.tenants.contains(p.unmatched_tenant())) {
    return absl::DataLossError(
        absl::StrCat("unmatched_tenant ", p.unmatched_tenant(), " unknown"));
  }
  state.unmatched_tenant = p.unmatched_tenant();
  state.deleted_tenants.insert(p.deleted_tenants().begin(),
                               p.deleted_tenants().end());
  return state;
}

}  // namespace grod::controlplane
