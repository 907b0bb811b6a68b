// DPDK telemetry commands for grod, so the stock client
// (dpdk-telemetry.py) can inspect tenants and ports on a live process:
//
//   /grod/tenants          -> ["blue", "red"]
//   /grod/tenant,<name>    -> {"packets_in": ..., "flushes/timeout": ...,
//                              "segments_per_output": [...], ...}
//   /grod/ports            -> {"port_id": [0, 1], "name": [...],
//                              "rx_packets": [...], ...} (one column per
//                              counter; DPDK 22.11 containers cannot nest
//                              dicts)
//   /grod/port,<port_id>   -> {"rx_packets": ..., ...}
//
// The callbacks run on DPDK's telemetry thread and read only
// DataPlane::Stats(), never worker state.
#ifndef GROD_METRICS_TELEMETRY_H_
#define GROD_METRICS_TELEMETRY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/dataplane.h"

namespace grod::metrics {

// While alive, the /grod commands answer from `dp`; destroying it detaches
// them (they then answer with an error) and waits for a running command to
// finish, so `dp` may be destroyed right after.
class TelemetryRegistration {
 public:
  ~TelemetryRegistration();
  TelemetryRegistration(const TelemetryRegistration&) = delete;
  TelemetryRegistration& operator=(const TelemetryRegistration&) = delete;

 private:
  friend absl::StatusOr<std::unique_ptr<TelemetryRegistration>>
  RegisterTelemetry(const DataPlane* dp);
  TelemetryRegistration() = default;
};

// Registers the commands with DPDK telemetry (once per process; works before
// or after rte_eal_init) and points them at `dp`. One registration may be
// alive at a time: DPDK's callbacks carry no user pointer.
absl::StatusOr<std::unique_ptr<TelemetryRegistration>> RegisterTelemetry(
    const DataPlane* dp);

}  // namespace grod::metrics

#endif  // GROD_METRICS_TELEMETRY_H_
