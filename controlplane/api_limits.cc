#include "controlplane/api_limits.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "controlplane/limits.h"

namespace grod::controlplane {

namespace {

template <typename T>
T Or(T value, T fallback) {
  return value == 0 ? fallback : value;
}

absl::Status Invalid(absl::string_view field, uint64_t value,
                     absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("limits.", field, ": ", value, " ", rule));
}

}  // namespace

Limits DefaultLimits() { return *ResolveLimits(v1::ApiLimits()); }

absl::StatusOr<Limits> ResolveLimits(const v1::ApiLimits& c) {
  Limits l;
  l.max_tenants = Or<uint32_t>(c.max_tenants(), kMaxTenants);
  l.max_route_hints = Or<uint64_t>(c.max_route_hints(), kDefaultMaxRouteHints);
  l.max_rpc_threads = Or(c.max_rpc_threads(), kDefaultMaxRpcThreads);
  l.max_watch_streams = Or(c.max_watch_streams(), kDefaultMaxWatchStreams);
  l.max_watch_streams_per_principal =
      Or(c.max_watch_streams_per_principal(),
         std::min(kDefaultMaxWatchStreamsPerPrincipal, l.max_watch_streams));
  l.mutations_per_second =
      Or(c.mutations_per_second(), kDefaultMutationsPerSecond);
  l.mutation_burst = Or(c.mutation_burst(), kDefaultMutationBurst);

  if (l.max_tenants > static_cast<uint32_t>(kMaxTenants)) {
    return Invalid("max_tenants", l.max_tenants,
                   absl::StrCat("is over ", kMaxTenants,
                                ", the most the data plane has room for"));
  }
  if (l.max_route_hints > kMaxMaxRouteHints) {
    return Invalid("max_route_hints", l.max_route_hints,
                   absl::StrCat("is over ", kMaxMaxRouteHints));
  }
  if (l.max_rpc_threads < kMinRpcThreads ||
      l.max_rpc_threads > kMaxRpcThreads) {
    return Invalid("max_rpc_threads", l.max_rpc_threads,
                   absl::StrCat("must be between ", kMinRpcThreads, " and ",
                                kMaxRpcThreads));
  }
  // Every stream holds a server thread: leave threads for unary calls
  // (and the health checks the probes make).
  if (l.max_watch_streams + 2 > l.max_rpc_threads) {
    return Invalid("max_watch_streams", l.max_watch_streams,
                   absl::StrCat("must be at most max_rpc_threads - 2 (",
                                l.max_rpc_threads - 2,
                                "): each stream holds a gRPC thread"));
  }
  if (l.max_watch_streams_per_principal > l.max_watch_streams) {
    return Invalid(
        "max_watch_streams_per_principal", l.max_watch_streams_per_principal,
        absl::StrCat("is over max_watch_streams (", l.max_watch_streams, ")"));
  }
  if (l.mutations_per_second > kMaxMutationsPerSecond) {
    return Invalid("mutations_per_second", l.mutations_per_second,
                   absl::StrCat("is over ", kMaxMutationsPerSecond));
  }
  if (l.mutation_burst > 100 * kMaxMutationsPerSecond) {
    return Invalid("mutation_burst", l.mutation_burst,
                   absl::StrCat("is over ", 100 * kMaxMutationsPerSecond));
  }
  return l;
}

}  // namespace grod::controlplane
