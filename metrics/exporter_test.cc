// Scrapes a live exporter over HTTP and runs `promtool check metrics` on
// the result, the same check Prometheus' maintainers recommend for exporters.
#include "metrics/exporter.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "common/testing/fake_dataplane.h"
#include "gtest/gtest.h"
#include "metrics/testing/http_get.h"
#include "metrics/testing/sample_stats.h"

namespace grod::metrics {
namespace {

std::string TmpFile(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

// Runs promtool on `text`; returns its exit status and fills `output`.
int Promtool(const std::string& text, std::string* output) {
  const std::string in = TmpFile("scrape.txt");
  const std::string out = TmpFile("promtool.out");
  std::ofstream(in) << text;
  const std::string cmd =
      "/usr/bin/promtool check metrics < " + in + " > " + out + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  output->assign(std::istreambuf_iterator<char>(f), {});
  return rc;
}

class ExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_.SetStats(testing::SampleStats(3));
    DataPlaneInfo info;
    info.dpdk_version = "DPDK 22.11.11";
    dp_.SetInfo(info);
    ExporterOptions options;
    options.config_version = [] {
      return ConfigVersion{5, absl::FromUnixSeconds(1700000000)};
    };
    options.build.version = "0.1.0";
    options.build.commit = "0123abc";
    auto exporter = Exporter::Create("127.0.0.1:0", &dp_, options);
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    exporter_ = std::move(*exporter);
    ASSERT_GT(exporter_->port(), 0);
  }

  std::string Scrape() {
    auto body = testing::HttpGet(exporter_->port(), "/metrics");
    EXPECT_TRUE(body.ok()) << body.status();
    return body.ok() ? *body : "";
  }

  grod::testing::FakeDataPlane dp_;
  std::unique_ptr<Exporter> exporter_;
};

TEST_F(ExporterTest, ScrapePassesPromtool) {
  const std::string text = Scrape();
  for (const char* want : {
           "grod_port_receive_packets_total{port=\"net_ring0\"} 300",
           "grod_tenant_output_packets_total{tenant=\"blue\",kind=\"merged\"} "
           "30",
           "grod_tenant_output_packets_total{tenant=\"blue\",kind=\"single\"} "
           "6",
           "grod_gro_segments_per_output_bucket{tenant=\"red\",le=\"+Inf\"} 75",
           "grod_config_generation 5",
           "grod_worker_busy_seconds_total{lcore=\"1\"} 0.75",
           "grod_worker_polling_seconds_total{lcore=\"2\"} 6",
           "grod_build_info{version=\"0.1.0\",commit=\"0123abc\","
           "dpdk_version=\"DPDK 22.11.11\"} 1",
           "grod_port_receive_no_mbuf_total{port=\"net_ring1\"} 12",
           "grod_port_receive_errors_total{port=\"net_ring0\"} 15",
           "grod_port_transmit_errors_total{port=\"net_ring0\"} 18",
           "grod_port_ip_fragments_total{port=\"net_ring0\"} 21",
           "grod_port_transmit_dropped_packets_by_reason_total{port=\"net_"
           "ring1\","
           "reason=\"tx_ring_full\"} 3",
           "grod_mempool_size_mbufs{pool=\"grod_pkts\"} 16383",
           "grod_mempool_in_use_mbufs{pool=\"grod_pkts\"} 4003",
           "grod_worker_stalled{lcore=\"2\"} 1",
           "grod_worker_stalled{lcore=\"1\"} 0",
           "grod_worker_stalls_total{lcore=\"2\"} 1",
           "grod_worker_pool_pressure_iterations_total{lcore=\"1\"} 21",
           "grod_worker_pool_pressure_flushed_flows_total{lcore=\"2\"} 210",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  std::string promtool;
  EXPECT_EQ(Promtool(text, &promtool), 0) << promtool << "\n" << text;
}

// The check must be able to fail: a counter without _total is a lint error.
TEST_F(ExporterTest, PromtoolRejectsABadExposition) {
  std::string promtool;
  EXPECT_NE(Promtool("# HELP bad_packets x\n# TYPE bad_packets counter\n"
                     "bad_packets 1\n",
                     &promtool),
            0)
      << promtool;
}

TEST_F(ExporterTest, ScrapeReflectsNewCounters) {
  dp_.SetStats(testing::SampleStats(10));
  EXPECT_NE(Scrape().find("grod_port_receive_packets_total{port=\"net_ring1\"} "
                          "1000"),
            std::string::npos);
}

std::string BasicAuth(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + absl::Base64Escape(user + ":" + password) +
         "\r\n";
}

// /metrics behind basic auth: real HTTP requests without, with wrong and
// with right credentials.
TEST(ExporterAuthTest, BasicAuthGuardsMetrics) {
  grod::testing::FakeDataPlane dp;
  dp.SetStats(testing::SampleStats(2));
  ExporterOptions options;
  std::atomic<int> checks{0};
  options.basic_auth = [&checks](const std::string& user,
                                 const std::string& password) {
    ++checks;
    return user == "prometheus" && password == "scrape-secret-0123456789";
  };
  auto exporter = Exporter::Create("127.0.0.1:0", &dp, std::move(options));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  const int port = (*exporter)->port();
  for (const std::string& headers :
       {std::string(), BasicAuth("prometheus", "wrong-secret-0123456789"),
        BasicAuth("other", "scrape-secret-0123456789")}) {
    auto body = testing::HttpGet(port, "/metrics", headers);
    ASSERT_FALSE(body.ok()) << headers;
    EXPECT_NE(body.status().message().find("401"), std::string::npos)
        << body.status();
    EXPECT_EQ(body.status().message().find("grod_"), std::string::npos)
        << "no metrics without credentials";
  }
  auto body = testing::HttpGet(
      port, "/metrics", BasicAuth("prometheus", "scrape-secret-0123456789"));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_NE(body->find("grod_"), std::string::npos);
  EXPECT_GE(checks.load(), 3);
}

TEST(ExporterCreateTest, BusyPortIsAnError) {
  grod::testing::FakeDataPlane dp;
  auto first = Exporter::Create("127.0.0.1:0", &dp);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second =
      Exporter::Create("127.0.0.1:" + std::to_string((*first)->port()), &dp);
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace grod::metrics
