// The caps on what API clients may take (grod.v1.ApiLimits in the config
// file), resolved to numbers: defaults filled in, bounds checked.
#ifndef GROD_CONTROLPLANE_API_LIMITS_H_
#define GROD_CONTROLPLANE_API_LIMITS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "proto/grod/v1/config.pb.h"

namespace grod::controlplane {

// Defaults; docs/OPERATIONS.md ("Resource admission") lists them too.
inline constexpr uint64_t kDefaultMaxRouteHints = 2'000'000;
inline constexpr uint64_t kMaxMaxRouteHints = 64'000'000;
inline constexpr uint32_t kDefaultMaxWatchStreams = 16;
inline constexpr uint32_t kDefaultMaxWatchStreamsPerPrincipal = 4;
inline constexpr uint32_t kDefaultMaxRpcThreads = 32;
inline constexpr uint32_t kMinRpcThreads = 4;
inline constexpr uint32_t kMaxRpcThreads = 1024;
inline constexpr uint32_t kDefaultMutationsPerSecond = 20;
inline constexpr uint32_t kDefaultMutationBurst = 100;
inline constexpr uint32_t kMaxMutationsPerSecond = 100000;

struct Limits {
  uint32_t max_tenants;
  uint64_t max_route_hints;
  uint32_t max_watch_streams;
  uint32_t max_watch_streams_per_principal;
  uint32_t max_rpc_threads;
  uint32_t mutations_per_second;
  uint32_t mutation_burst;
};

// The defaults (an empty ApiLimits).
Limits DefaultLimits();

// INVALID_ARGUMENT naming "limits.<field>" and what is allowed.
absl::StatusOr<Limits> ResolveLimits(const v1::ApiLimits& config);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_API_LIMITS_H_
