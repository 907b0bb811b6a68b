#include "controlplane/bootstrap.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "controlplane/convert.h"
#include "controlplane/limits.h"
#include "controlplane/prefix.h"
#include "controlplane/validate.h"
#include "google/protobuf/util/message_differencer.h"

namespace grod::controlplane {

namespace {

absl::Status WithPrefix(const absl::Status& s, absl::string_view prefix) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

}  // namespace

absl::Status CheckSelectorConflicts(const DesiredState& state,
                                    const v1::Tenant& tenant,
                                    const std::string& field) {
  using google::protobuf::util::MessageDifferencer;
  for (int i = 0; i < tenant.selectors_size(); ++i) {
    for (const auto& [name, other] : state.tenants) {
      if (name == tenant.name()) continue;
      for (const v1::TrafficSelector& s : other.tenant.selectors()) {
        if (MessageDifferencer::Equals(s, tenant.selectors(i))) {
          return absl::FailedPreconditionError(
              absl::StrCat(field, ".selectors[", i,
                           "]: identical to a selector of tenant ", name));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<DesiredState> StateFromTenants(
    const google::protobuf::RepeatedPtrField<v1::Tenant>& tenants,
    const google::protobuf::RepeatedPtrField<v1::TenantRouteHints>& route_hints,
    absl::Time now, absl::string_view where,
    const std::set<uint32_t>* known_ports) {
  const auto prefixed = [&](const absl::Status& s) {
    return where.empty() ? s : WithPrefix(s, where);
  };
  DesiredState state;
  if (tenants.size() > kMaxTenants) {
    return absl::ResourceExhaustedError(absl::StrCat(
        where, "tenants: ", tenants.size(), " tenants; at most ", kMaxTenants));
  }
  for (int i = 0; i < tenants.size(); ++i) {
    const std::string field = absl::StrCat("tenants[", i, "]");
    absl::StatusOr<v1::Tenant> t =
        NormalizeTenant(tenants[i], field, known_ports);
    if (!t.ok()) return prefixed(t.status());
    if (state.tenants.contains(t->name())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, field, ".name: duplicate tenant ", t->name()));
    }
    if (absl::Status s = CheckSelectorConflicts(state, *t, field); !s.ok()) {
      return prefixed(s);
    }
    *t->mutable_create_time() = ToProtoTime(now);
    *t->mutable_update_time() = ToProtoTime(now);
    state.tenants[t->name()].tenant = *std::move(t);
  }
  std::set<std::string> seen;
  for (int i = 0; i < route_hints.size(); ++i) {
    const v1::TenantRouteHints& rh = route_hints[i];
    const std::string field = absl::StrCat(where, "route_hints[", i, "]");
    auto it = state.tenants.find(rh.tenant());
    if (it == state.tenants.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".tenant: no tenant ", rh.tenant(), " in ",
                       where.empty() ? "tenants" : "the config"));
    }
    // A config file may list a tenant's hints in several entries; a
    // request names each tenant once, so none is silently merged.
    if (where.empty() && !seen.insert(rh.tenant()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".tenant: ", rh.tenant(), " has an earlier entry"));
    }
    for (int j = 0; j < rh.hints_size(); ++j) {
      const std::string hf = absl::StrCat(field, ".hints[", j, "]");
      absl::StatusOr<IpPrefix> p = ParseIpPrefix(rh.hints(j).prefix());
      if (!p.ok()) {
        return WithPrefix(p.status(), absl::StrCat(hf, ".prefix: "));
      }
      if (absl::Status s =
              ValidateHintMode(rh.hints(j).mode(), absl::StrCat(hf, ".mode"));
          !s.ok()) {
        return s;
      }
      it->second.hints[*p] = ToGroMode(rh.hints(j).mode());
    }
    if (it->second.hints.size() > static_cast<size_t>(kMaxHintsPerTenant)) {
      return absl::ResourceExhaustedError(
          absl::StrCat(field, ": tenant ", rh.tenant(), " has more than ",
                       kMaxHintsPerTenant, " route hints"));
    }
  }
  return state;
}

absl::StatusOr<DesiredState> StateFromConfig(const v1::GrodConfig& config,
                                             absl::Time now) {
  absl::StatusOr<DesiredState> state = StateFromTenants(
      config.tenants(), config.route_hints(), now, "config: ", nullptr);
  if (!state.ok()) return state;
  if (!config.unmatched_tenant().empty()) {
    if (!state->tenants.contains(config.unmatched_tenant())) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: unmatched_tenant: no tenant ",
                       config.unmatched_tenant(), " in the config"));
    }
    state->unmatched_tenant = config.unmatched_tenant();
  }
  return state;
}

DesiredState MergeStates(DesiredState from_config, DesiredState persisted) {
  DesiredState out = std::move(persisted);
  const std::set<std::string>& deleted = out.deleted_tenants;
  for (auto& [name, ts] : from_config.tenants) {
    if (out.tenants.contains(name) || deleted.contains(name)) continue;
    if (out.tenants.size() >= static_cast<size_t>(kMaxTenants)) {
      GROD_LOG(WARNING, "config tenant ", name, " not added: ", kMaxTenants,
               " tenants already");
      continue;
    }
    // A config tenant whose selector was meanwhile given to another tenant
    // through the API loses: the API change is the newer intent.
    if (!CheckSelectorConflicts(out, ts.tenant, "tenant").ok()) {
      GROD_LOG(WARNING, "config tenant ", name,
               " not added: a selector of it belongs to another tenant in "
               "the state file");
      continue;
    }
    out.tenants[name] = std::move(ts);
  }
  if (out.unmatched_tenant.empty() &&
      out.tenants.contains(from_config.unmatched_tenant)) {
    out.unmatched_tenant = from_config.unmatched_tenant;
  }
  return out;
}

}  // namespace grod::controlplane
