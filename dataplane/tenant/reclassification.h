// Which tenants a selector change may take traffic from. A worker must
// flush what those hold before it classifies under the new configuration
// (else a flow moving to another tenant could overtake its own held
// packets); every other tenant keeps its held flows.
//
// Classification is "most specific selector wins, else the unmatched
// tenant". Adding or removing a selector `c` can only change the owner of
// packets `c` matches, and their old owner is a tenant with a selector
// overlapping `c`, or -- for packets no old selector matched -- the
// unmatched tenant, unless one old selector covers all of `c`.
#ifndef GROD_DATAPLANE_TENANT_RECLASSIFICATION_H_
#define GROD_DATAPLANE_TENANT_RECLASSIFICATION_H_

#include <bitset>
#include <cstdint>
#include <vector>

#include "common/dataplane_types.h"
#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane {

using SlotSet = std::bitset<kMaxTenants>;

struct TenantSelectors {
  uint16_t slot;
  const std::vector<TrafficSelector>* selectors;
};

// Some packet matches both selectors.
bool Overlaps(const TrafficSelector& a, const TrafficSelector& b);
// Every packet `inner` matches, `outer` matches too.
bool Covers(const TrafficSelector& outer, const TrafficSelector& inner);

// Selectors in exactly one of `a` and `b` (added or removed).
std::vector<TrafficSelector> ChangedSelectors(
    const std::vector<TrafficSelector>& a,
    const std::vector<TrafficSelector>& b);

// The slots that may lose traffic when the selectors in `changed` are
// added or removed, computed on the configuration before the change:
// `tenants` and `unmatched_slot` (< 0: none).
SlotSet TenantsLosingTraffic(const std::vector<TenantSelectors>& tenants,
                             int unmatched_slot,
                             const std::vector<TrafficSelector>& changed);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_TENANT_RECLASSIFICATION_H_
