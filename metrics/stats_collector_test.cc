#include "metrics/stats_collector.h"

#include <cmath>
#include <map>
#include <string>

#include "common/testing/fake_dataplane.h"
#include "gtest/gtest.h"
#include "common/segment_buckets.h"
#include "metrics/testing/sample_stats.h"

namespace grod::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

const MetricFamily* Find(const std::vector<MetricFamily>& fams,
                         const std::string& name) {
  for (const MetricFamily& f : fams) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const ClientMetric* FindMetric(const MetricFamily& f,
                               const std::map<std::string, std::string>& l) {
  for (const ClientMetric& m : f.metric) {
    std::map<std::string, std::string> have;
    for (const auto& lab : m.label) have[lab.name] = lab.value;
    if (have == l) return &m;
  }
  return nullptr;
}

TEST(SegmentBucketsTest, IndexMatchesInclusiveUpperBounds) {
  for (uint32_t n = 0; n <= 200; ++n) {
    size_t want = 0;
    while (want < kSegmentBuckets.size() && n > kSegmentBuckets[want]) ++want;
    EXPECT_EQ(SegmentBucketIndex(n), want) << n;
  }
  EXPECT_EQ(SegmentBucketIndex(UINT32_MAX), kSegmentBuckets.size());
  static_assert(SegmentBucketIndex(64) == 6 && SegmentBucketIndex(65) == 7);
}

TEST(StatsCollectorTest, ConvertsEveryCounter) {
  const auto fams = StatsCollector::Families(
      testing::SampleStats(2), true,
      ConfigVersion{7, absl::FromUnixSeconds(1700000000)}, {{1, 0.5}});

  const MetricFamily* rx = Find(fams, "grod_port_receive_packets_total");
  ASSERT_NE(rx, nullptr);
  EXPECT_EQ(rx->type, prometheus::MetricType::Counter);
  const ClientMetric* p0 = FindMetric(*rx, {{"port", "net_ring0"}});
  ASSERT_NE(p0, nullptr);
  EXPECT_EQ(p0->counter.value, 200);

  const MetricFamily* mode = Find(fams, "grod_gro_output_packets_total");
  ASSERT_NE(mode, nullptr);
  const ClientMetric* list =
      FindMetric(*mode, {{"tenant", "red"}, {"mode", "list"}});
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->counter.value, 10);

  const MetricFamily* fl = Find(fams, "grod_gro_flushes_total");
  ASSERT_NE(fl, nullptr);
  const ClientMetric* timeout =
      FindMetric(*fl, {{"tenant", "blue"}, {"reason", "timeout"}});
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->counter.value, 4);

  const MetricFamily* held = Find(fams, "grod_gro_held_packets");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->type, prometheus::MetricType::Gauge);

  const MetricFamily* gen = Find(fams, "grod_config_generation");
  ASSERT_NE(gen, nullptr);
  EXPECT_EQ(gen->metric.at(0).gauge.value, 7);
  const MetricFamily* changed =
      Find(fams, "grod_config_last_change_timestamp_seconds");
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->metric.at(0).gauge.value, 1700000000);
  EXPECT_EQ(Find(fams, "grod_state_file_quarantined")->metric.at(0).gauge.value,
            0);

  const MetricFamily* ratio = Find(fams, "grod_worker_busy_ratio");
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(FindMetric(*ratio, {{"lcore", "1"}})->gauge.value, 0.5);
  EXPECT_EQ(FindMetric(*ratio, {{"lcore", "2"}})->gauge.value, 0.0);
}

TEST(StatsCollectorTest, HistogramIsCumulativeWithInf) {
  const auto fams =
      StatsCollector::Families(testing::SampleStats(1), true, {}, {});
  const MetricFamily* h = Find(fams, "grod_gro_segments_per_output");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, prometheus::MetricType::Histogram);
  const ClientMetric* blue = FindMetric(*h, {{"tenant", "blue"}});
  ASSERT_NE(blue, nullptr);
  const auto& b = blue->histogram.bucket;
  ASSERT_EQ(b.size(), kSegmentBucketCount);
  // 5 outputs of 1 segment, 5 of 3..4, 10 of 5..8.
  EXPECT_EQ(b[0].cumulative_count, 5u);   // le=1
  EXPECT_EQ(b[1].cumulative_count, 5u);   // le=2
  EXPECT_EQ(b[2].cumulative_count, 10u);  // le=4
  EXPECT_EQ(b[3].cumulative_count, 20u);  // le=8
  EXPECT_EQ(b.back().cumulative_count, 20u);
  EXPECT_TRUE(std::isinf(b.back().upper_bound));
  EXPECT_EQ(blue->histogram.sample_count, 20u);
  // 60 merged + 20 listed segments + 5 single-segment outputs.
  EXPECT_EQ(blue->histogram.sample_sum, 85);
  // Without a config callback the generation comes from the snapshot and
  // the last-change time is not invented.
  EXPECT_EQ(Find(fams, "grod_config_generation")->metric.at(0).gauge.value, 3);
  EXPECT_EQ(Find(fams, "grod_config_last_change_timestamp_seconds"), nullptr);
  EXPECT_EQ(Find(fams, "grod_state_file_quarantined"), nullptr);
}

TEST(StatsCollectorTest, ShortOrLongBucketVectorsDoNotCrash) {
  StatsSnapshot s = testing::SampleStats(1);
  s.tenants[0].segments_per_output.clear();
  s.tenants[1].segments_per_output.assign(kSegmentBucketCount + 3, 1);
  const auto fams = StatsCollector::Families(s, true, {}, {});
  const MetricFamily* h = Find(fams, "grod_gro_segments_per_output");
  EXPECT_EQ(FindMetric(*h, {{"tenant", "blue"}})->histogram.sample_count, 0u);
  EXPECT_EQ(FindMetric(*h, {{"tenant", "red"}})->histogram.sample_count,
            kSegmentBucketCount + 3);
}

TEST(StatsCollectorTest, BusyRatioCoversTheIntervalSinceLastScrape) {
  grod::testing::FakeDataPlane dp;
  StatsSnapshot s;
  s.workers = {{1, 50, 100}};
  dp.SetStats(s);
  StatsCollector c(&dp, nullptr);
  auto ratio = [&] {
    const auto fams = c.Collect();
    return Find(fams, "grod_worker_busy_ratio")->metric.at(0).gauge.value;
  };
  EXPECT_DOUBLE_EQ(ratio(), 0.5);  // lifetime on the first scrape
  s.workers = {{1, 60, 200}};      // 10 busy of 100 since
  dp.SetStats(s);
  EXPECT_DOUBLE_EQ(ratio(), 0.1);
  dp.SetReady(false);
  const auto fams = c.Collect();
  EXPECT_EQ(Find(fams, "grod_dataplane_ready")->metric.at(0).gauge.value, 0);
}

}  // namespace
}  // namespace grod::metrics
