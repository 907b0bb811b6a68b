#include "controlplane/validate.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "controlplane/limits.h"
#include "controlplane/status_details.h"

namespace grod::controlplane {

namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return FieldViolation(field, what);
}

std::string Sub(absl::string_view field, absl::string_view child) {
  return absl::StrCat(field, ".", child);
}

std::string Index(absl::string_view field, int i) {
  return absl::StrCat(field, "[", i, "]");
}

absl::Status ValidateSelector(const v1::TrafficSelector& s,
                              absl::string_view field,
                              const std::set<uint32_t>* known_ports) {
  if (s.has_port_id()) {
    if (s.port_id() > kMaxPortId) {
      return Invalid(Sub(field, "port_id"),
                     absl::StrCat("must be at most ", kMaxPortId));
    }
    if (known_ports != nullptr && !known_ports->contains(s.port_id())) {
      return Invalid(
          Sub(field, "port_id"),
          absl::StrCat("no such port ", s.port_id(), " (see ListPorts)"));
    }
  }
  if (s.has_vlan_id() && s.vlan_id() > kMaxVlanId) {
    return Invalid(Sub(field, "vlan_id"), "must be 0 (untagged) or 1..4094");
  }
  if (s.has_vni() && s.vni() > kMaxVni) {
    return Invalid(Sub(field, "vni"), "must be between 0 and 16777215");
  }
  return absl::OkStatus();
}

auto SelectorKey(const v1::TrafficSelector& s) {
  return std::make_tuple(s.has_port_id(), s.port_id(), s.has_vlan_id(),
                         s.vlan_id(), s.has_vni(), s.vni());
}

}  // namespace

absl::Status ValidateTenantName(absl::string_view name,
                                absl::string_view field) {
  if (name.empty()) return Invalid(field, "required");
  if (name.size() > 63) return Invalid(field, "at most 63 characters");
  if (name[0] < 'a' || name[0] > 'z') {
    return Invalid(field, "must start with a letter a-z");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return Invalid(field, "only a-z, 0-9 and '-' are allowed");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::FlushPolicy> NormalizeFlushPolicy(
    const v1::FlushPolicy& policy, absl::string_view field) {
  v1::FlushPolicy out = policy;
  if (!v1::FlushKind_IsValid(policy.kind())) {
    return Invalid(Sub(field, "kind"),
                   "must be PER_BURST, TIMEOUT or ADAPTIVE");
  }
  if (out.kind() == v1::FLUSH_KIND_UNSPECIFIED) {
    out.set_kind(v1::FLUSH_KIND_PER_BURST);
  }
  const auto& d = policy.timeout();
  const bool well_formed = d.nanos() > -1'000'000'000 &&
                           d.nanos() < 1'000'000'000 &&
                           !(d.seconds() > 0 && d.nanos() < 0) &&
                           !(d.seconds() < 0 && d.nanos() > 0);
  if (!well_formed) return Invalid(Sub(field, "timeout"), "malformed duration");
  if (out.kind() == v1::FLUSH_KIND_PER_BURST) {
    if (policy.has_timeout() && (d.seconds() != 0 || d.nanos() != 0)) {
      return Invalid(Sub(field, "timeout"),
                     "only valid with kind TIMEOUT or ADAPTIVE");
    }
    out.clear_timeout();
  } else {
    // Seconds are bounded before multiplying so the product cannot overflow.
    const bool in_range =
        d.seconds() >= 0 && d.seconds() <= 10 &&
        d.seconds() * 1'000'000'000 + d.nanos() >= kMinFlushTimeoutNs &&
        d.seconds() * 1'000'000'000 + d.nanos() <= kMaxFlushTimeoutNs;
    if (!in_range) {
      return Invalid(Sub(field, "timeout"), "must be between 1us and 10s");
    }
  }
  if (policy.max_merged_bytes() > kMaxBigMergedBytes) {
    return Invalid(
        Sub(field, "max_merged_bytes"),
        absl::StrCat("must be between 1 and ", kMaxBigMergedBytes,
                     " (0 = ", kMaxMergedBytes, "; above ", kMaxMergedBytes,
                     " only plain TCP merges that far: BIG TCP)"));
  }
  if (out.max_merged_bytes() == 0) out.set_max_merged_bytes(kMaxMergedBytes);
  if (policy.max_segments() > kMaxSegments) {
    return Invalid(Sub(field, "max_segments"),
                   "must be between 1 and 64 (0 = 64)");
  }
  if (out.max_segments() == 0) out.set_max_segments(kMaxSegments);
  return out;
}

absl::StatusOr<v1::Tenant> NormalizeTenant(
    const v1::Tenant& tenant, absl::string_view field,
    const std::set<uint32_t>* known_ports) {
  if (absl::Status s = ValidateTenantName(tenant.name(), Sub(field, "name"));
      !s.ok()) {
    return s;
  }
  v1::Tenant out = tenant;
  out.clear_create_time();
  out.clear_update_time();
  out.clear_route_hint_count();
  out.clear_etag();

  const std::string selectors = Sub(field, "selectors");
  if (tenant.selectors_size() == 0) {
    return Invalid(selectors, "at least one selector is required");
  }
  if (tenant.selectors_size() > kMaxSelectorsPerTenant) {
    return Invalid(selectors, absl::StrCat("at most ", kMaxSelectorsPerTenant));
  }
  for (int i = 0; i < tenant.selectors_size(); ++i) {
    if (absl::Status s = ValidateSelector(tenant.selectors(i),
                                          Index(selectors, i), known_ports);
        !s.ok()) {
      return s;
    }
    for (int j = 0; j < i; ++j) {
      if (SelectorKey(tenant.selectors(i)) ==
          SelectorKey(tenant.selectors(j))) {
        return Invalid(Index(selectors, i),
                       absl::StrCat("duplicate of ", Index(selectors, j)));
      }
    }
  }

  const std::string quotas = Sub(field, "quotas");
  if (tenant.quotas().max_flows() > kMaxMaxFlows) {
    return Invalid(Sub(quotas, "max_flows"),
                   absl::StrCat("must be at most ", kMaxMaxFlows));
  }
  if (tenant.quotas().max_held_packets() > kMaxMaxHeldPackets) {
    return Invalid(Sub(quotas, "max_held_packets"),
                   absl::StrCat("must be at most ", kMaxMaxHeldPackets));
  }
  if (out.quotas().max_flows() == 0) {
    out.mutable_quotas()->set_max_flows(kDefaultMaxFlows);
  }
  if (out.quotas().max_held_packets() == 0) {
    out.mutable_quotas()->set_max_held_packets(kDefaultMaxHeldPackets);
  }

  const std::string types = Sub(field, "gro_types");
  for (int i = 0; i < tenant.gro_types_size(); ++i) {
    const int t = tenant.gro_types(i);
    if (t == v1::GRO_TYPE_UNSPECIFIED || !v1::GroType_IsValid(t)) {
      return Invalid(Index(types, i), absl::StrCat("unknown GRO type ", t));
    }
    for (int j = 0; j < i; ++j) {
      if (tenant.gro_types(j) == t) {
        return Invalid(Index(types, i),
                       absl::StrCat("duplicate ", v1::GroType_Name(t)));
      }
    }
  }

  const int mode = tenant.default_mode();
  if (!v1::GroMode_IsValid(mode)) {
    return Invalid(Sub(field, "default_mode"), "must be MERGE, LIST or BYPASS");
  }
  if (mode == v1::GRO_MODE_UNSPECIFIED)
    out.set_default_mode(v1::GRO_MODE_MERGE);

  absl::StatusOr<v1::FlushPolicy> policy =
      NormalizeFlushPolicy(tenant.flush_policy(), Sub(field, "flush_policy"));
  if (!policy.ok()) return policy.status();
  *out.mutable_flush_policy() = *std::move(policy);
  return out;
}

absl::Status ValidateHintMode(int mode, absl::string_view field) {
  if (mode == v1::GRO_MODE_UNSPECIFIED || !v1::GroMode_IsValid(mode)) {
    return Invalid(field, "must be MERGE, LIST or BYPASS");
  }
  return absl::OkStatus();
}

}  // namespace grod::controlplane
