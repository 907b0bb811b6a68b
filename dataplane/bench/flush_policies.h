// What both flush sections compare: the flush policies, the offered loads
// and what one measurement of a policy under a load yields.
#ifndef GROD_DATAPLANE_BENCH_FLUSH_POLICIES_H_
#define GROD_DATAPLANE_BENCH_FLUSH_POLICIES_H_

#include <cstdint>
#include <vector>

#include "common/dataplane_types.h"

namespace grod::dataplane::bench {

struct Policy {
  const char* name;
  GroMode mode;
  FlushKind kind;
  uint64_t timeout_ns;
};
// The first row, without GRO, is the reference the others are compared to.
inline constexpr Policy kPolicies[] = {
    {"no GRO (BYPASS), reference", GroMode::kBypass, FlushKind::kPerBurst, 0},
    {"PER_BURST", GroMode::kMerge, FlushKind::kPerBurst, 0},
    {"TIMEOUT 50us", GroMode::kMerge, FlushKind::kTimeout, 50'000},
    {"TIMEOUT 200us", GroMode::kMerge, FlushKind::kTimeout, 200'000},
    {"ADAPTIVE 200us", GroMode::kMerge, FlushKind::kAdaptive, 200'000},
    {"LIST, PER_BURST", GroMode::kList, FlushKind::kPerBurst, 0},
    {"LIST, TIMEOUT 50us", GroMode::kList, FlushKind::kTimeout, 50'000},
};

struct Load {
  const char* name;
  uint32_t flows;
  uint32_t interval_ns;  // 0 = full load
};
inline constexpr Load kLoads[] = {
    {"low rate: 1 flow, 100 kpps", 1, 10'000},
    {"low rate: 64 flows, 100 kpps", 64, 10'000},
    {"full load: 1 flow", 1, 0},
    {"full load: 64 flows (round robin)", 64, 0},
};

struct FlushResult {
  double segs_per_output = 0;
  std::vector<double> lat_us;
  double mpps = 0;
  double busy = 0;  // worker busy fraction
};

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_FLUSH_POLICIES_H_
