// `grod --probe=live|ready`: asks a running grod's gRPC health service and
// exits 0 if it answers SERVING. For Kubernetes exec probes: the admin API
// listens on localhost (or a unix socket), which kubelet's native gRPC
// probes cannot reach (they dial the pod IP).
#ifndef GROD_GROD_HEALTH_PROBE_H_
#define GROD_GROD_HEALTH_PROBE_H_

#include <string>

#include "absl/status/status.h"
#include "proto/grod/v1/config.pb.h"

namespace grod {

// `which`: "live" (health service "": the process serves) or "ready"
// ("grod.v1.Grod": the data plane forwards). Dials the config's
// grpc_listen (a wildcard address as loopback), with TLS if the config
// serves TLS. OK iff SERVING; otherwise why not.
absl::Status ProbeHealth(const v1::GrodConfig& config,
                         const std::string& which);

}  // namespace grod

#endif  // GROD_GROD_HEALTH_PROBE_H_
