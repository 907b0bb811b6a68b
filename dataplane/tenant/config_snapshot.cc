#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane {

void FindWholePorts(ConfigSnapshot* snap) {
  for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; ++port) {
    int16_t route = ConfigSnapshot::kPerPacket;
    if (!snap->classifier.HeadersMatterOn(port)) {
      // Only port-level or catch-all selectors can match here: any VLAN
      // and VNI give the same answer.
      int slot = snap->classifier.Match(port, 0, -1);
      if (slot == Classifier::kNoTenant) slot = snap->unmatched_slot;
      if (slot == Classifier::kNoTenant) {
        route = Classifier::kNoTenant;
      } else {
        const TenantRuntime& t = snap->tenants[slot];
        // Route hints pick a mode by destination: headers decide.
        if (t.routes == nullptr && t.default_mode == GroMode::kBypass) {
          route = static_cast<int16_t>(slot);
        }
      }
    }
    snap->whole_port[port] = route;
  }
}

}  // namespace grod::dataplane
