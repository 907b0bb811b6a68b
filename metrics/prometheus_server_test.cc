// End to end: a real Prometheus server (the Debian package's binary) scrapes
// a live exporter every second; after the data plane's counters grow, a
// PromQL query through Prometheus' HTTP API sees the growth.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/testing/fake_dataplane.h"
#include "common/testing/wait_for.h"
#include "gtest/gtest.h"
#include "metrics/exporter.h"
#include "metrics/testing/http_get.h"
#include "metrics/testing/sample_stats.h"

namespace grod::metrics {
namespace {

using testing::HttpGet;
using testing::UrlEncode;

constexpr absl::Duration kWait = absl::Seconds(60);

std::string TmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

class PrometheusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dp_.SetStats(testing::SampleStats(1));
    auto exporter = Exporter::Create("127.0.0.1:0", &dp_);
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    exporter_ = std::move(*exporter);
    StartPrometheus();
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      const bool exited = ::grod::testing::WaitFor(
          [&] { return waitpid(pid_, &status, WNOHANG) != 0; },
          absl::Seconds(10), absl::Milliseconds(100));
      if (!exited) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
    if (HasFailure()) {
      std::ifstream log(log_);
      std::cerr << "--- prometheus log ---\n" << log.rdbuf() << "\n";
    }
  }

  void StartPrometheus() {
    const std::string dir = TmpDir();
    const std::string config = dir + "/prometheus.yml";
    std::ofstream(config) << "global:\n"
                             "  scrape_interval: 1s\n"
                             "  scrape_timeout: 1s\n"
                             "scrape_configs:\n"
                             "  - job_name: grod\n"
                             "    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << exporter_->port() << "']\n";
    log_ = dir + "/prometheus.log";
    prom_port_ = testing::PickFreePort();
    ASSERT_GT(prom_port_, 0);
    const std::string listen =
        absl::StrCat("--web.listen-address=127.0.0.1:", prom_port_);
    const std::string storage = "--storage.tsdb.path=" + dir + "/tsdb";
    const std::string config_flag = "--config.file=" + config;
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // Die with the test even if it crashes before TearDown.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      freopen(log_.c_str(), "w", stdout);
      dup2(fileno(stdout), STDERR_FILENO);
      execl("/usr/bin/prometheus", "prometheus", config_flag.c_str(),
            storage.c_str(), listen.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }

  // Polls `check` until it holds or kWait passes.
  bool WaitFor(const std::function<bool()>& check) {
    bool exited = false;
    const bool held = ::grod::testing::WaitFor(
        [&] {
          if (check()) return true;
          int status = 0;
          if (waitpid(pid_, &status, WNOHANG) == pid_) {
            ADD_FAILURE() << "prometheus exited with status " << status;
            pid_ = -1;
            exited = true;
          }
          return exited;
        },
        kWait, absl::Milliseconds(250));
    return held && !exited;
  }

  // The value of an instant query's first sample, if any.
  std::optional<double> Query(const std::string& promql) {
    auto body = HttpGet(prom_port_, "/api/v1/query?query=" + UrlEncode(promql));
    if (!body.ok()) return std::nullopt;
    last_reply_ = *body;
    static const std::regex kValue(R"re("value":\[[-0-9.e+]+,"([^"]+)"\])re");
    std::smatch m;
    if (!std::regex_search(*body, m, kValue)) return std::nullopt;
    return std::strtod(m[1].str().c_str(), nullptr);
  }

  grod::testing::FakeDataPlane dp_;
  std::unique_ptr<Exporter> exporter_;
  pid_t pid_ = -1;
  int prom_port_ = -1;
  std::string log_;
  std::string last_reply_;
};

TEST_F(PrometheusServerTest, QuerySeesCounterIncrease) {
  ASSERT_TRUE(WaitFor([&] { return HttpGet(prom_port_, "/-/ready").ok(); }))
      << "prometheus never became ready";
  ASSERT_TRUE(WaitFor([&] { return Query("up{job=\"grod\"}") == 1.0; }))
      << "target never up: " << last_reply_;

  const std::string rx = "grod_port_receive_packets_total{port=\"net_ring0\"}";
  ASSERT_TRUE(WaitFor([&] { return Query(rx) == 100.0; })) << last_reply_;

  dp_.SetStats(testing::SampleStats(5));  // rx_packets 100 -> 500
  EXPECT_TRUE(WaitFor([&] { return Query(rx) == 500.0; })) << last_reply_;
  // Both samples are inside the window: the exact growth, no extrapolation.
  EXPECT_TRUE(WaitFor([&] {
    return Query(absl::StrCat("max_over_time(", rx, "[5m]) - min_over_time(",
                              rx, "[5m])")) == 400.0;
  })) << last_reply_;
  // What dashboards use: increase() over the window is positive.
  const std::optional<double> inc =
      Query(absl::StrCat("increase(", rx, "[1m])"));
  ASSERT_TRUE(inc.has_value()) << last_reply_;
  EXPECT_GT(*inc, 0) << last_reply_;
  // The worker's busy share, from the two time counters over a window: lcore
  // 1 is a quarter busy in SampleStats at any scale.
  EXPECT_TRUE(WaitFor([&] {
    return Query(
               "rate(grod_worker_busy_seconds_total{lcore=\"1\"}[1m]) / "
               "rate(grod_worker_polling_seconds_total{lcore=\"1\"}[1m])") ==
           0.25;
  })) << last_reply_;
  // The output kinds add up to the tenant's output (25 per scale unit).
  EXPECT_TRUE(WaitFor([&] {
    return Query("sum(grod_tenant_output_packets_total{tenant=\"blue\"})") ==
           125.0;
  })) << last_reply_;
  // The histogram survives Prometheus' parser too.
  EXPECT_TRUE(WaitFor([&] {
    return Query("sum(grod_gro_segments_per_output_count)") == 250.0;
  })) << last_reply_;
}

}  // namespace
}  // namespace grod::metrics
