// Quotas and bounds the control plane enforces. One place so the service,
// its tests and grocli's usage text agree.
#ifndef GROD_CONTROLPLANE_LIMITS_H_
#define GROD_CONTROLPLANE_LIMITS_H_

#include <cstdint>

#include "common/limits.h"

namespace grod::controlplane {

// Shared with the data plane (common/limits.h).
using ::grod::kDefaultMaxFlows;
using ::grod::kDefaultMaxHeldPackets;
using ::grod::kMaxBigMergedBytes;
using ::grod::kMaxMergedBytes;
using ::grod::kMaxSegments;
using ::grod::kMaxTenants;

inline constexpr int kMaxSelectorsPerTenant = 64;
inline constexpr int kMaxHintsPerRequest = 100000;
inline constexpr int kMaxHintsPerTenant = 1000000;

// Per worker lcore; beyond this a tenant's tables would not fit sensibly.
inline constexpr uint32_t kMaxMaxFlows = 1 << 20;
inline constexpr uint32_t kMaxMaxHeldPackets = 1 << 20;

inline constexpr int64_t kMinFlushTimeoutNs = 1000;            // 1us
inline constexpr int64_t kMaxFlushTimeoutNs = 10'000'000'000;  // 10s

inline constexpr uint32_t kMaxVlanId = 4094;
inline constexpr uint32_t kMaxVni = (1u << 24) - 1;
inline constexpr uint32_t kMaxPortId = 65535;

inline constexpr int kDefaultTenantPageSize = 100;
inline constexpr int kMaxTenantPageSize = 1000;
inline constexpr int kDefaultHintPageSize = 1000;
inline constexpr int kMaxHintPageSize = 10000;

inline constexpr int64_t kMinWatchIntervalMs = 100;
inline constexpr int64_t kMaxWatchIntervalMs = 3600 * 1000;

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_LIMITS_H_
