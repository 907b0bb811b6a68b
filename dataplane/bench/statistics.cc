#include "dataplane/bench/statistics.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace grod::dataplane::bench {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * v.size()));
  return v[i];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 50); }

double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

}  // namespace grod::dataplane::bench
