// Route-hint sets for the lookup, config and install sections: prefix
// builders and deterministic pseudo-random prefix mixes.
#ifndef GROD_DATAPLANE_BENCH_ROUTE_HINTS_H_
#define GROD_DATAPLANE_BENCH_ROUTE_HINTS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "common/dataplane_types.h"

namespace grod::dataplane::bench {

// `addr` (host byte order) / `len`, host bits cleared.
IpPrefix V4(uint32_t addr, uint8_t len);
// `addr` / `len`, host bits cleared.
IpPrefix V6(const std::array<uint8_t, 16>& addr, uint8_t len);

// `n` distinct IPv4 prefixes: 95% /16../24 (uniform), 5% /32 host routes;
// modes LIST or BYPASS at random.
std::vector<RouteHint> V4Hints(uint32_t n, uint32_t seed);

// Like a provider's customer assignments under one /32: /48s, /56s and /64s
// (random 16-bit site ids, dense subnets), 5% /128 hosts.
std::vector<RouteHint> V6Hints(uint32_t n, uint32_t seed);

// Consecutively numbered /64s under 2001:db8::/32 (one site's subnets).
std::vector<RouteHint> V6DenseHints(uint32_t n);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_ROUTE_HINTS_H_
