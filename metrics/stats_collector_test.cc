#include "metrics/stats_collector.h"

#include <cmath>
#include <map>
#include <string>

#include "common/segment_buckets.h"
#include "common/testing/fake_dataplane.h"
#include "gtest/gtest.h"
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
      ConfigVersion{7, absl::FromUnixSeconds(1700000000)},
      {"1.2.3", "abc123", "DPDK 22.11.11"});

  const MetricFamily* rx = Find(fams, "grod_port_receive_packets_total");
  ASSERT_NE(rx, nullptr);
  EXPECT_EQ(rx->type, prometheus::MetricType::Counter);
  const ClientMetric* p0 = FindMetric(*rx, {{"port", "net_ring0"}});
  ASSERT_NE(p0, nullptr);
  EXPECT_EQ(p0->counter.value, 200);

  EXPECT_EQ(Find(fams, "grod_gro_output_packets_total"), nullptr);
  const MetricFamily* out = Find(fams, "grod_tenant_output_packets_total");
  ASSERT_NE(out, nullptr);
  const ClientMetric* list =
      FindMetric(*out, {{"tenant", "red"}, {"kind", "listed"}});
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->counter.value, 10);

  const MetricFamily* info = Find(fams, "grod_build_info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->type, prometheus::MetricType::Gauge);
  const ClientMetric* build =
      FindMetric(*info, {{"version", "1.2.3"},
                         {"commit", "abc123"},
                         {"dpdk_version", "DPDK 22.11.11"}});
  ASSERT_NE(build, nullptr);
  EXPECT_EQ(build->gauge.value, 1);

  const MetricFamily* fl = Find(fams, "grod_gro_flushes_total");
  ASSERT_NE(fl, nullptr);
  const ClientMetric* timeout =
      FindMetric(*fl, {{"tenant", "blue"}, {"reason", "timeout"}});
  ASSERT_NE(timeout, nullptr);
  EXPECT_EQ(timeout->counter.value, 4);

  const MetricFamily* as_list =
      Find(fams, "grod_gro_merge_as_list_packets_total");
  ASSERT_NE(as_list, nullptr);
  EXPECT_EQ(as_list->type, prometheus::MetricType::Counter);
  const ClientMetric* red_as_list = FindMetric(*as_list, {{"tenant", "red"}});
  ASSERT_NE(red_as_list, nullptr);
  EXPECT_EQ(red_as_list->counter.value, 8);

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

  // Cycle counters in seconds: 100 cycles per second, lcore 2 polled
  // 2 * 100 * 2 cycles of which a quarter busy.
  EXPECT_EQ(Find(fams, "grod_worker_busy_ratio"), nullptr);
  const MetricFamily* polling = Find(fams, "grod_worker_polling_seconds_total");
  ASSERT_NE(polling, nullptr);
  EXPECT_EQ(polling->type, prometheus::MetricType::Counter);
  EXPECT_DOUBLE_EQ(FindMetric(*polling, {{"lcore", "2"}})->counter.value, 4.0);
  const MetricFamily* busy = Find(fams, "grod_worker_busy_seconds_total");
  ASSERT_NE(busy, nullptr);
  EXPECT_DOUBLE_EQ(FindMetric(*busy, {{"lcore", "2"}})->counter.value, 1.0);
  EXPECT_EQ(Find(fams, "grod_worker_busy_cycles_total"), nullptr);
}

// grod_tenant_output_packets_total's kinds add up to the tenant's output,
// the data plane's packets_out, whatever the mix.
TEST(StatsCollectorTest, OutputKindsAddUpToTheTenantsOutput) {
  StatsSnapshot s;
  TenantCounters t;
  t.tenant = "t";
  t.merged_packets_out = 3;
  t.list_packets_out = 5;
  t.single_packets_out = 7;
  t.bypass_packets = 11;
  t.passthrough = {{"bypass", 11}, {"not_ip", 13}, {"duplicate", 17}};
  t.packets_out = 3 + 5 + 7 + 11 + 13 + 17;
  s.tenants.push_back(t);
  TenantCounters unmatched;  // as the data plane reports it: all bypassed
  unmatched.tenant = "_unmatched";
  unmatched.packets_in = unmatched.packets_out = unmatched.bypass_packets = 19;
  s.tenants.push_back(unmatched);
  const auto fams = StatsCollector::Families(s, true, {}, {});
  const MetricFamily* out = Find(fams, "grod_tenant_output_packets_total");
  ASSERT_NE(out, nullptr);
  for (const TenantCounters& want : s.tenants) {
    double sum = 0;
    int kinds = 0;
    for (const ClientMetric& m : out->metric) {
      if (m.label.at(0).value == want.tenant) {
        sum += m.counter.value;
        ++kinds;
      }
    }
    EXPECT_EQ(kinds, 5) << want.tenant;
    EXPECT_EQ(sum, want.packets_out) << want.tenant;
  }
  EXPECT_EQ(FindMetric(*out, {{"tenant", "t"}, {"kind", "passed_through"}})
                ->counter.value,
            30);
  EXPECT_EQ(
      FindMetric(*out, {{"tenant", "t"}, {"kind", "bypassed"}})->counter.value,
      11);
}

TEST(StatsCollectorTest, UnknownCycleRateOmitsWorkerTime) {
  StatsSnapshot s = testing::SampleStats(1);
  s.tsc_hz = 0;
  const auto fams = StatsCollector::Families(s, true, {}, {});
  EXPECT_EQ(Find(fams, "grod_worker_busy_seconds_total"), nullptr);
  EXPECT_EQ(Find(fams, "grod_worker_polling_seconds_total"), nullptr);
  ASSERT_NE(Find(fams, "grod_worker_stalled"), nullptr);
  // Unset build labels read "unknown", never an empty label.
  const MetricFamily* info = Find(fams, "grod_build_info");
  ASSERT_NE(info, nullptr);
  EXPECT_NE(FindMetric(*info, {{"version", "unknown"},
                               {"commit", "unknown"},
                               {"dpdk_version", "unknown"}}),
            nullptr);
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
  // 10 outputs of 1 segment, 5 of 3..4, 10 of 5..8.
  EXPECT_EQ(b[0].cumulative_count, 10u);  // le=1
  EXPECT_EQ(b[1].cumulative_count, 10u);  // le=2
  EXPECT_EQ(b[2].cumulative_count, 15u);  // le=4
  EXPECT_EQ(b[3].cumulative_count, 25u);  // le=8
  EXPECT_EQ(b.back().cumulative_count, 25u);
  EXPECT_TRUE(std::isinf(b.back().upper_bound));
  EXPECT_EQ(blue->histogram.sample_count, 25u);
  // 60 merged + 20 listed segments + 10 single-segment outputs.
  EXPECT_EQ(blue->histogram.sample_sum, 90);
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

// No state between scrapes: a second scraper (a second Prometheus server)
// sees the same counters, not an interval shortened by the first one.
TEST(StatsCollectorTest, ScrapesAreIndependentOfEachOther) {
  grod::testing::FakeDataPlane dp;
  StatsSnapshot s;
  s.tsc_hz = 100;
  s.workers = {{1, 50, 100}};
  dp.SetStats(s);
  StatsCollector c(&dp, nullptr, {});
  auto busy = [&] {
    const auto fams = c.Collect();
    return Find(fams, "grod_worker_busy_seconds_total")
        ->metric.at(0)
        .counter.value;
  };
  EXPECT_DOUBLE_EQ(busy(), 0.5);
  EXPECT_DOUBLE_EQ(busy(), 0.5);  // the same, scraped again at once
  s.workers = {{1, 60, 200}};
  dp.SetStats(s);
  EXPECT_DOUBLE_EQ(busy(), 0.6);
  dp.SetReady(false);
  const auto fams = c.Collect();
  EXPECT_EQ(Find(fams, "grod_dataplane_ready")->metric.at(0).gauge.value, 0);
}

}  // namespace
}  // namespace grod::metrics
