// A prometheus-cpp Collectable that builds every data-plane metric family
// from one DataPlane::Stats() snapshot at scrape time.
//
// Why a custom Collectable rather than prometheus-cpp Counter objects: the
// data plane keeps plain per-lcore single-writer counters and sums them on
// Stats(); mirroring them into prometheus-cpp objects would need atomics or
// a copy thread. Reading on demand keeps the fast path free of both. The
// collector keeps no state between scrapes, so any number of Prometheus
// servers may scrape it and each sees the same counters.
#ifndef GROD_METRICS_STATS_COLLECTOR_H_
#define GROD_METRICS_STATS_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/dataplane.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace grod::metrics {

// What the control plane reports about its configuration.
struct ConfigVersion {
  uint64_t generation = 0;
  absl::Time last_change = absl::InfinitePast();  // InfinitePast = unknown
  // This run moved an unusable state file aside and started from the config
  // file (docs/OPERATIONS.md, "Recovery").
  bool state_quarantined = false;
};

using ConfigVersionFn = std::function<ConfigVersion()>;

// The labels of grod_build_info. An empty field is exported as "unknown".
struct BuildLabels {
  std::string version;
  std::string commit;
  std::string dpdk_version;
};

class StatsCollector : public prometheus::Collectable {
 public:
  // `dp` must outlive the collector. `config_version` may be empty: the
  // generation then comes from the snapshot and the last-change time is not
  // exported.
  StatsCollector(const DataPlane* dp, ConfigVersionFn config_version,
                 BuildLabels build);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The pure conversion, for tests.
  static std::vector<prometheus::MetricFamily> Families(
      const StatsSnapshot& stats, bool ready,
      const std::optional<ConfigVersion>& config, const BuildLabels& build);

 private:
  const DataPlane* const dp_;
  const ConfigVersionFn config_version_;
  const BuildLabels build_;
};

}  // namespace grod::metrics

#endif  // GROD_METRICS_STATS_COLLECTOR_H_
