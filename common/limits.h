// Bounds and defaults both sides of the DataPlane interface rely on: one
// definition, so the control plane's validation, the data plane's tables and
// the engine's defaults cannot drift apart (the data plane static_asserts
// its own values against these).
#ifndef GROD_COMMON_LIMITS_H_
#define GROD_COMMON_LIMITS_H_

#include <cstdint>

namespace grod {

// Tenants one data plane holds at once (its tenant slots).
inline constexpr int kMaxTenants = 256;

// A tenant's default quotas, per worker lcore: what a tenant created with
// quotas 0 (or unset) gets from the control plane (validate.cc), what
// TenantSpec and the GRO engine's ContextConfig start with, and what
// grod.proto's Quotas comments say (checked by
// //controlplane:default_quotas_test).
inline constexpr uint32_t kDefaultMaxFlows = 4096;
// Held packets take mbufs from the one pool every port's RX shares, so the
// quotas of all tenants are admitted against it (controlplane/admission.h):
// the default leaves room for several tenants in the default 16383-mbuf pool.
inline constexpr uint32_t kDefaultMaxHeldPackets = 2048;
// Largest merged packet (what the outermost IP length field counts), also
// the default; plain TCP may go further ("BIG TCP", kMaxBigMergedBytes).
inline constexpr uint32_t kMaxMergedBytes = 65535;
inline constexpr uint32_t kMaxBigMergedBytes = 512 * 1024;
// Original packets per merged output, at most (also the default).
inline constexpr uint32_t kMaxSegments = 64;

}  // namespace grod

#endif  // GROD_COMMON_LIMITS_H_
