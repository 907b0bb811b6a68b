// The read-mostly configuration every worker lcore reads on the fast path:
// immutable once published, swapped atomically by the TenantManager and
// freed only after an RCU grace period (rte_rcu_qsbr), so workers read it
// with no lock and no reference counting.
#ifndef GROD_DATAPLANE_TENANT_CONFIG_SNAPSHOT_H_
#define GROD_DATAPLANE_TENANT_CONFIG_SNAPSHOT_H_

#include <rte_config.h>

#include <array>
#include <cstdint>

#include "common/dataplane_types.h"
#include "dataplane/tenant/classifier.h"
#include "dataplane/tenant/route_table.h"

namespace grod::dataplane {

using ::grod::kMaxTenants;  // common/limits.h

struct TenantRuntime {
  bool active = false;
  GroMode default_mode = GroMode::kMerge;
  FlushKind flush_kind = FlushKind::kPerBurst;
  uint64_t timeout_tsc = 0;  // TIMEOUT / ADAPTIVE hold limit in TSC cycles
  const RouteTable* routes = nullptr;  // null: no hints
  // The classification_epoch at which some of the traffic this slot's
  // tenant held may last have moved to another tenant (set for removed
  // slots too). A worker flushes the slot when it is newer than the last
  // epoch the worker saw.
  uint64_t reclassified_epoch = 0;

  // The mode for a packet to `dst` (network order, 4 or 16 bytes).
  GroMode ModeFor(bool v6, const uint8_t* dst) const {
    if (routes == nullptr) return default_mode;
    const uint8_t hint = v6 ? routes->Lookup6(dst) : routes->Lookup4(dst);
    return hint == RouteTable::kNoHint ? default_mode
                                       : static_cast<GroMode>(hint);
  }
};

struct ConfigSnapshot {
  // whole_port[port] when that port's packets must each be parsed and
  // classified (the default: a snapshot nobody ran FindWholePorts on).
  static constexpr int16_t kPerPacket = -2;

  ConfigSnapshot() { whole_port.fill(kPerPacket); }

  uint64_t generation = 0;
  // Bumped whenever which tenant a packet belongs to may have changed
  // (selectors, tenants added/removed, unmatched tenant). A worker that
  // sees a new epoch first flushes the tenants whose reclassified_epoch is
  // newer than the one it saw -- those that may lose traffic to another
  // tenant -- so a flow moving between tenants is never reordered, and
  // the other tenants keep what they hold.
  uint64_t classification_epoch = 0;
  Classifier classifier;
  int unmatched_slot = Classifier::kNoTenant;  // kNoTenant: bypass GRO
  std::array<TenantRuntime, kMaxTenants> tenants{};
  // Per ingress port, what FindWholePorts() worked out: a tenant slot
  // that every packet of the port goes to and that bypasses GRO whatever
  // the headers (no route hints, default mode BYPASS); kNoTenant: every
  // packet bypasses GRO unclaimed; kPerPacket: headers decide.  A worker
  // forwards a burst of a port with a slot or kNoTenant whole, unparsed.
  std::array<int16_t, RTE_MAX_ETHPORTS> whole_port;
};

// Fills snap->whole_port from its classifier, unmatched_slot and tenants:
// call once they are final, before publishing.
void FindWholePorts(ConfigSnapshot* snap);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_TENANT_CONFIG_SNAPSHOT_H_
