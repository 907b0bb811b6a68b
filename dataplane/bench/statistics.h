// Order statistics of measured samples (ns/packet, latencies, seconds).
#ifndef GROD_DATAPLANE_BENCH_STATISTICS_H_
#define GROD_DATAPLANE_BENCH_STATISTICS_H_

#include <vector>

namespace grod::dataplane::bench {

// The sample at rank p% (nearest rank, no interpolation); 0 if v is empty.
double Percentile(std::vector<double> v, double p);
double Median(std::vector<double> v);
// 0 if v is empty.
double Max(const std::vector<double>& v);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_STATISTICS_H_
