// A StatsSnapshot with every family populated, for exporter tests.
#ifndef GROD_METRICS_TESTING_SAMPLE_STATS_H_
#define GROD_METRICS_TESTING_SAMPLE_STATS_H_

#include <cstdint>

#include "common/dataplane_types.h"

namespace grod::metrics::testing {

// Two ports ("net_ring0", "net_ring1"), two tenants ("blue", "red"), two
// workers (lcores 1, 2). Every counter is a multiple of `scale`, so a test
// can make counters grow by calling it again with a larger scale.
StatsSnapshot SampleStats(uint64_t scale);

}  // namespace grod::metrics::testing

#endif  // GROD_METRICS_TESTING_SAMPLE_STATS_H_
