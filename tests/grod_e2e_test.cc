// grod as a user runs it: virtual devices in, gRPC + grocli + /metrics
// queried, SIGTERM, clean exit, and the packets made it through.
#include <signal.h>

#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "common/testing/wait_for.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/grod/v1/grod.grpc.pb.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/grod_process.h"

namespace grod {
namespace {

using ::grod::testing::GrodProcess;
using ::grod::testing::MetricSum;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

class GrodE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    in_pcap_ = TempPath("in.pcap");
    out_pcap_ = TempPath("out.pcap");
    frames_ = SampleFrames();
    ASSERT_TRUE(WritePcap(in_pcap_, frames_).ok());
    // One pcap port replays the capture once and writes what it transmits;
    // it is its own peer.
    std::string config = testing::TestEalArgsConfig(
        {"net_pcap0,rx_pcap=" + in_pcap_ + ",tx_pcap=" + out_pcap_});
    config += "idle_sleep_us: 100\n";
    absl::StatusOr<GrodProcess> grod = GrodProcess::Start(config);
    ASSERT_TRUE(grod.ok()) << grod.status();
    grod_.emplace(std::move(*grod));
    channel_ = grpc::CreateChannel(grod_->grpc_target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Grod::NewStub(channel_);
  }

  std::string in_pcap_, out_pcap_;
  std::vector<std::vector<uint8_t>> frames_;
  std::optional<GrodProcess> grod_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Grod::Stub> stub_;
};

TEST_F(GrodE2eTest, ServesForwardsAndStopsCleanly) {
  // Health: SERVING once the data plane is up.
  auto health = ::grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext hctx;
  ::grpc::health::v1::HealthCheckResponse hresp;
  ASSERT_TRUE(health->Check(&hctx, {}, &hresp).ok());
  EXPECT_EQ(hresp.status(), ::grpc::health::v1::HealthCheckResponse::SERVING);

  // Info and ports through the generated stub.
  grpc::ClientContext ictx;
  v1::ServiceInfo info;
  ASSERT_TRUE(stub_->GetInfo(&ictx, {}, &info).ok());
  EXPECT_FALSE(info.version().empty());
  EXPECT_THAT(info.dpdk_version(), HasSubstr("DPDK"));
  EXPECT_EQ(info.worker_lcores_size(), 1);
  EXPECT_TRUE(info.data_plane_ready());

  grpc::ClientContext pctx;
  v1::ListPortsResponse ports;
  ASSERT_TRUE(stub_->ListPorts(&pctx, {}, &ports).ok());
  ASSERT_EQ(ports.ports_size(), 1);
  EXPECT_EQ(ports.ports(0).name(), "net_pcap0");
  EXPECT_EQ(ports.ports(0).peer_port_id(), ports.ports(0).port_id());

  // The same through grocli, table and JSON.
  const std::string grocli = testing::Runfile("cli/grocli");
  testing::CommandResult r =
      testing::RunCommand({grocli, "--server", grod_->grpc_target(), "info"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(info.version()));
  r = testing::RunCommand(
      {grocli, "--server", grod_->grpc_target(), "ports", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"net_pcap0\""));

  // The capture is replayed once: wait until every frame was received.
  double rx = 0;
  std::string metrics;
  testing::WaitFor([&] {
    absl::StatusOr<std::string> body =
        testing::HttpGet(grod_->metrics_port(), "/metrics");
    if (!body.ok()) return false;
    metrics = *body;
    rx = MetricSum(metrics, "grod_port_receive_packets_total",
                   "port=\"net_pcap0\"");
    return rx >= frames_.size();
  });
  EXPECT_EQ(rx, frames_.size()) << metrics;
  EXPECT_THAT(metrics,
              HasSubstr("# TYPE grod_port_receive_packets_total counter"));
  // Which grod and DPDK: the same as GetInfo says.
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("grod_build_info{version=\"",
                                              info.version(), "\",commit=")));
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("dpdk_version=\"",
                                              info.dpdk_version(), "\"} 1")));
  // The commit the build recorded (scripts/workspace_status.sh), or unknown.
  EXPECT_TRUE(std::regex_search(
      metrics,
      std::regex(
          R"re(grod_build_info\{[^}]*commit="([0-9a-f]{12}|unknown)")re")))
      << metrics;
  // Worker time in seconds: the worker polled for a while, never longer
  // than the test has run.
  const double polling =
      MetricSum(metrics, "grod_worker_polling_seconds_total", "lcore=");
  EXPECT_GT(polling, 0) << metrics;
  EXPECT_LT(polling, 600) << metrics;

  absl::StatusOr<int> code = grod_->Stop(SIGTERM);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << grod_->log();
  EXPECT_THAT(grod_->log(), HasSubstr("stopped cleanly"));

  // Every payload byte went through, per flow and in order. (GRO may merge
  // segments, so compare the concatenated L4 payload streams.)
  absl::StatusOr<std::vector<std::vector<uint8_t>>> out =
      testing::ReadPcap(out_pcap_);
  ASSERT_TRUE(out.ok()) << out.status();
  testing::FlowStreams want = testing::SplitFlows(frames_);
  testing::FlowStreams got = testing::SplitFlows(*out);
  EXPECT_EQ(testing::DiffStreams(want, got), "");
  EXPECT_EQ(got.unparsed, want.unparsed);
  EXPECT_EQ(got.bad_checksums, 0);
  EXPECT_GE(want.streams.size(), 18u);
}

TEST_F(GrodE2eTest, SigintAlsoStopsCleanly) {
  absl::StatusOr<int> code = grod_->Stop(SIGINT);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << grod_->log();
}

}  // namespace
}  // namespace grod
