// A brute-force reference for tenant classification, independent of the
// Classifier's index: the most specific selector that matches (port 4,
// VLAN 2, VNI 1 -- as the API documents; two selectors of one rank that
// both match are the same selector, which the Classifier refuses).  The
// classifier's and the whole-port decision's tests compare against it.
#ifndef GROD_DATAPLANE_TESTING_SELECTOR_REFERENCE_H_
#define GROD_DATAPLANE_TESTING_SELECTOR_REFERENCE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "common/dataplane_types.h"

namespace grod::dataplane::testing {

using SelectorSlots = std::vector<std::pair<TrafficSelector, uint16_t>>;

inline bool SelectorMatches(const TrafficSelector& s, uint16_t port,
                            uint16_t vlan, int64_t vni) {
  if (s.port_id && *s.port_id != port) return false;
  if (s.vlan_id && *s.vlan_id != vlan) return false;
  if (s.vni && (vni < 0 || *s.vni != vni)) return false;
  return true;
}

inline int SelectorRank(const TrafficSelector& s) {
  return (s.port_id ? 4 : 0) + (s.vlan_id ? 2 : 0) + (s.vni ? 1 : 0);
}

// The slot of the most specific selector matching (port, vlan, vni; -1: no
// VNI), or `none` if no selector matches.
inline int ReferenceSlot(const SelectorSlots& selectors, uint16_t port,
                         uint16_t vlan, int64_t vni, int none) {
  int want = none, best = -1;
  for (const auto& [sel, slot] : selectors) {
    if (SelectorMatches(sel, port, vlan, vni) && SelectorRank(sel) > best) {
      best = SelectorRank(sel);
      want = slot;
    }
  }
  return want;
}

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_SELECTOR_REFERENCE_H_
