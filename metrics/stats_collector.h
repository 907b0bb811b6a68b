// A prometheus-cpp Collectable that builds every data-plane metric family
// from one DataPlane::Stats() snapshot at scrape time.
//
// Why a custom Collectable rather than prometheus-cpp Counter objects: the
// data plane keeps plain per-lcore single-writer counters and sums them on
// Stats(); mirroring them into prometheus-cpp objects would need atomics or
// a copy thread. Reading on demand keeps the fast path free of both.
#ifndef GROD_METRICS_STATS_COLLECTOR_H_
#define GROD_METRICS_STATS_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
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

class StatsCollector : public prometheus::Collectable {
 public:
  // `dp` must outlive the collector. `config_version` may be empty: the
  // generation then comes from the snapshot and the last-change time is not
  // exported.
  StatsCollector(const DataPlane* dp, ConfigVersionFn config_version);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The pure conversion, for tests. `busy_ratio` holds the per-lcore ratio
  // to export (see Collect).
  static std::vector<prometheus::MetricFamily> Families(
      const StatsSnapshot& stats, bool ready,
      const std::optional<ConfigVersion>& config,
      const std::map<uint32_t, double>& busy_ratio);

 private:
  struct Cycles {
    uint64_t busy = 0;
    uint64_t total = 0;
  };

  // Busy ratio of each worker since the previous scrape (lifetime ratio on
  // the first one), so the gauge shows current load, not the average since
  // start.
  std::map<uint32_t, double> BusyRatio(
      const std::vector<WorkerCounters>& workers) const;

  const DataPlane* const dp_;
  const ConfigVersionFn config_version_;
  mutable std::mutex mu_;  // scrapes may run on several civetweb threads
  mutable std::map<uint32_t, Cycles> last_cycles_;
};

}  // namespace grod::metrics

#endif  // GROD_METRICS_STATS_COLLECTOR_H_
