// The control plane's only view of the data plane.
//
// Implemented by dataplane/ (DPDK workers) and by a fake in the control
// plane's tests. Every mutating call is all-or-nothing: on error nothing
// changed. A successful call returns once every worker lcore uses the new
// configuration, so a caller can acknowledge it to its client.
// Calls may come from any thread; implementations serialise writers.
#ifndef GROD_COMMON_DATAPLANE_H_
#define GROD_COMMON_DATAPLANE_H_

#include <vector>

#include "absl/status/status.h"
#include "common/dataplane_types.h"

namespace grod {

class DataPlane {
 public:
  virtual ~DataPlane() = default;

  // True once ports are started and workers poll.
  virtual bool Ready() const = 0;
  // OK when Ready(); otherwise UNAVAILABLE saying why (e.g. which worker
  // lcore stopped polling), for callers to pass on.
  virtual absl::Status ReadyStatus() const {
    return Ready() ? absl::OkStatus()
                   : absl::UnavailableError(
                         "data plane is not ready yet; retry shortly");
  }
  virtual DataPlaneInfo Info() const = 0;
  virtual std::vector<PortInfo> Ports() const = 0;
  // The mbuf pool tenants' held-packet quotas share (fixed once started).
  virtual MbufBudget Mbufs() const = 0;

  // Creates or replaces a tenant (replacing keeps its held packets' order:
  // they are flushed before the new settings apply). Route hints are kept.
  virtual absl::Status UpsertTenant(const TenantSpec& spec) = 0;
  // Flushes the tenant's held packets out, then forgets it and its hints.
  virtual absl::Status RemoveTenant(const std::string& name) = 0;
  // Adds (or replaces the mode of) hints; all-or-nothing.
  virtual absl::Status AddRouteHints(const std::string& tenant,
                                     const std::vector<RouteHint>& hints) = 0;
  virtual absl::Status RemoveRouteHints(
      const std::string& tenant, const std::vector<IpPrefix>& prefixes) = 0;
  // Tenant for traffic no selector matches; empty = bypass.
  virtual absl::Status SetUnmatchedTenant(const std::string& tenant) = 0;

  virtual StatsSnapshot Stats() const = 0;
};

}  // namespace grod

#endif  // GROD_COMMON_DATAPLANE_H_
