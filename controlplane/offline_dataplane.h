// The data plane as `grod --check_config` sees it: not started, so no ports
// to check selectors against and no mbuf budget yet (quotas are admitted
// against the pool when grod starts). Refuses every change, so a check that
// strayed into applying something would fail loudly instead.
#ifndef GROD_CONTROLPLANE_OFFLINE_DATAPLANE_H_
#define GROD_CONTROLPLANE_OFFLINE_DATAPLANE_H_

#include <string>
#include <vector>

#include "common/dataplane.h"

namespace grod::controlplane {

class OfflineDataPlane final : public DataPlane {
 public:
  bool Ready() const override { return false; }
  DataPlaneInfo Info() const override { return {}; }
  std::vector<PortInfo> Ports() const override { return {}; }
  MbufBudget Mbufs() const override { return {}; }
  absl::Status UpsertTenant(const TenantSpec&) override { return Refuse(); }
  absl::Status RemoveTenant(const std::string&) override { return Refuse(); }
  absl::Status AddRouteHints(const std::string&,
                             const std::vector<RouteHint>&) override {
    return Refuse();
  }
  absl::Status RemoveRouteHints(const std::string&,
                                const std::vector<IpPrefix>&) override {
    return Refuse();
  }
  absl::Status SetUnmatchedTenant(const std::string&) override {
    return Refuse();
  }
  StatsSnapshot Stats() const override { return {}; }

 private:
  static absl::Status Refuse() {
    return absl::FailedPreconditionError("offline: configuration check only");
  }
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_OFFLINE_DATAPLANE_H_
