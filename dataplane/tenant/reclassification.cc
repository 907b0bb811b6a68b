#include "dataplane/tenant/reclassification.h"

#include <algorithm>

namespace grod::dataplane {

bool Overlaps(const TrafficSelector& a, const TrafficSelector& b) {
  auto same = [](const auto& x, const auto& y) { return !x || !y || *x == *y; };
  return same(a.port_id, b.port_id) && same(a.vlan_id, b.vlan_id) &&
         same(a.vni, b.vni);
}

bool Covers(const TrafficSelector& outer, const TrafficSelector& inner) {
  auto wider = [](const auto& o, const auto& i) {
    return !o || (i && *i == *o);
  };
  return wider(outer.port_id, inner.port_id) &&
         wider(outer.vlan_id, inner.vlan_id) && wider(outer.vni, inner.vni);
}

std::vector<TrafficSelector> ChangedSelectors(
    const std::vector<TrafficSelector>& a,
    const std::vector<TrafficSelector>& b) {
  std::vector<TrafficSelector> changed;
  for (const TrafficSelector& s : a) {
    if (std::find(b.begin(), b.end(), s) == b.end()) changed.push_back(s);
  }
  for (const TrafficSelector& s : b) {
    if (std::find(a.begin(), a.end(), s) == a.end()) changed.push_back(s);
  }
  return changed;
}

SlotSet TenantsLosingTraffic(const std::vector<TenantSelectors>& tenants,
                             int unmatched_slot,
                             const std::vector<TrafficSelector>& changed) {
  SlotSet losers;
  for (const TrafficSelector& c : changed) {
    bool covered = false;
    for (const TenantSelectors& t : tenants) {
      for (const TrafficSelector& s : *t.selectors) {
        if (Overlaps(s, c)) losers.set(t.slot);
        covered |= Covers(s, c);
      }
    }
    // Packets `c` matches that no selector did were the unmatched
    // tenant's.
    if (!covered && unmatched_slot >= 0) losers.set(unmatched_slot);
  }
  return losers;
}

}  // namespace grod::dataplane
