#include "dataplane/tenant/classifier.h"

#include "absl/strings/str_cat.h"

namespace grod::dataplane {

absl::Status Classifier::Add(const TrafficSelector& s, uint16_t slot) {
  const int pattern =
      (s.port_id ? 4 : 0) | (s.vlan_id ? 2 : 0) | (s.vni ? 1 : 0);
  const uint64_t key = Key(pattern, s.port_id.value_or(0),
                           s.vlan_id.value_or(0), s.vni ? int64_t{*s.vni} : -1);
  auto [it, inserted] = slots_.try_emplace(key, slot);
  if (!inserted && it->second != slot) {
    return absl::FailedPreconditionError(
        "selector is already used by another tenant");
  }
  used_patterns_ |= 1u << pattern;
  if (s.vlan_id || s.vni) {
    if (s.port_id) {
      header_selector_ports_.insert(*s.port_id);
    } else {
      header_selector_any_port_ = true;
    }
  }
  return absl::OkStatus();
}

}  // namespace grod::dataplane
