// Liveness and systemd integration of the real grod binary: with a unix
// datagram socket as $NOTIFY_SOCKET (what systemd gives a Type=notify
// service), READY=1 arrives once ports forward and gRPC serves, WATCHDOG=1
// pings follow $WATCHDOG_USEC; when a worker lcore stops polling (the
// --testonly_stall_worker_on_sigusr1_ms hook), health turns NOT_SERVING
// within a second, /metrics and the log name the lcore, changes fail with
// UNAVAILABLE naming it, and the watchdog pings stop -- until it recovers.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/wait_for.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/grod/v1/grod.grpc.pb.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/grod_process.h"

namespace grod {
namespace {

using ::grod::testing::GrodProcess;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

// systemd's side of the notify socket.
class NotifySocket {
 public:
  NotifySocket()
      : path_(absl::StrCat("/tmp/grod-live-e2e-", getpid(), ".sock")) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    unlink(path_.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  // The next datagram within `timeout`, or "".
  std::string Receive(absl::Duration timeout) {
    timeval tv = absl::ToTimeval(timeout);
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, n) : "";
  }
  // Datagrams received during `window` that contain `what`.
  int Count(const std::string& what, absl::Duration window) {
    int n = 0;
    const absl::Time end = absl::Now() + window;
    while (absl::Now() < end) {
      const std::string d = Receive(end - absl::Now());
      if (d.find(what) != std::string::npos) ++n;
    }
    return n;
  }
  // Waits up to `timeout` for a datagram containing `what`.
  bool WaitFor(const std::string& what, absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      if (Receive(end - absl::Now()).find(what) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

int Promtool(const std::string& text, std::string* output) {
  const std::string base = absl::StrCat(std::getenv("TEST_TMPDIR"), "/live");
  std::ofstream(base + ".txt") << text;
  const int rc = std::system(("/usr/bin/promtool check metrics < " + base +
                              ".txt > " + base + ".out 2>&1")
                                 .c_str());
  std::ifstream f(base + ".out");
  output->assign(std::istreambuf_iterator<char>(f), {});
  return rc;
}

class LivenessE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(notify_.bound());
    setenv("NOTIFY_SOCKET", notify_.path().c_str(), 1);
    setenv("WATCHDOG_USEC", "300000", 1);  // pings every 150 ms
    std::string config = testing::TestEalArgsConfig({"net_null0,no-rx=1"});
    config += "idle_sleep_us: 100\n";
    absl::StatusOr<GrodProcess> grod = GrodProcess::Start(
        config, {"--worker_stall_ms=500",
                 "--testonly_stall_worker_on_sigusr1_ms=3000"});
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    ASSERT_TRUE(grod.ok()) << grod.status();
    grod_.emplace(std::move(*grod));
    channel_ = grpc::CreateChannel(grod_->grpc_target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Grod::NewStub(channel_);
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }

  // Readiness ("grod.v1.Grod": the data plane forwards); "" is liveness of
  // the control plane, which a stuck lcore does not change (the systemd
  // watchdog restarts grod for that).
  HealthCheckResponse::ServingStatus Health() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("grod.v1.Grod");
    HealthCheckResponse resp;
    const grpc::Status s = health_->Check(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.status();
  }

  grpc::Status CreateTenant(const std::string& name) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::CreateTenantRequest req;
    req.mutable_tenant()->set_name(name);
    req.mutable_tenant()->add_selectors()->set_port_id(0);
    v1::Tenant resp;
    return stub_->CreateTenant(&ctx, req, &resp);
  }

  std::string Metrics() {
    absl::StatusOr<std::string> body =
        testing::HttpGet(grod_->metrics_port(), "/metrics");
    EXPECT_TRUE(body.ok()) << body.status();
    return body.ok() ? *body : "";
  }

  NotifySocket notify_;
  std::optional<GrodProcess> grod_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Grod::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

TEST_F(LivenessE2eTest, StalledWorkerTurnsHealthAndWatchdogOffUntilItRecovers) {
  // READY=1 once ports forward and gRPC serves.
  ASSERT_TRUE(notify_.WaitFor("READY=1", absl::Seconds(10))) << grod_->log();
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  EXPECT_THAT(Metrics(), HasSubstr("grod_dataplane_ready 1"));
  EXPECT_GE(notify_.Count("WATCHDOG=1", absl::Seconds(1)), 4);

  ASSERT_EQ(kill(grod_->pid(), SIGUSR1), 0);
  const absl::Time stalled_at = absl::Now();
  testing::WaitFor([&] { return Health() == HealthCheckResponse::NOT_SERVING; },
                   absl::Seconds(3), absl::Milliseconds(10));
  const absl::Duration detection = absl::Now() - stalled_at;
  ASSERT_EQ(Health(), HealthCheckResponse::NOT_SERVING) << grod_->log();
  EXPECT_LT(detection, absl::Seconds(1));
  EXPECT_THAT(grod_->log(), HasSubstr("worker lcore 1 stopped polling"));

  const std::string text = Metrics();
  EXPECT_THAT(text, HasSubstr("grod_worker_stalled{lcore=\"1\"} 1"));
  EXPECT_THAT(text, HasSubstr("grod_worker_stalls_total{lcore=\"1\"} 1"));
  EXPECT_THAT(text, HasSubstr("grod_dataplane_ready 0"));
  EXPECT_THAT(text, HasSubstr("grod_mempool_in_use_mbufs{pool=\"grod_pkts\"}"));
  EXPECT_THAT(text, HasSubstr("grod_port_receive_no_mbuf_total{port="));
  std::string promtool;
  EXPECT_EQ(Promtool(text, &promtool), 0) << promtool;

  const absl::Time call = absl::Now();
  const grpc::Status created = CreateTenant("blue");
  EXPECT_EQ(created.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(created.error_message(), HasSubstr("lcore 1"));
  EXPECT_LT(absl::Now() - call, absl::Seconds(1)) << "it must not hang";

  // No pings while stalled (one may have been on its way).
  notify_.Count("WATCHDOG=1", absl::Milliseconds(200));
  EXPECT_EQ(notify_.Count("WATCHDOG=1", absl::Milliseconds(800)), 0);

  // The stall ends 3 s after SIGUSR1: serving and pinging again.
  testing::WaitFor([&] { return Health() == HealthCheckResponse::SERVING; },
                   stalled_at + absl::Seconds(8) - absl::Now(),
                   absl::Milliseconds(20));
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  EXPECT_THAT(grod_->log(), HasSubstr("worker lcore 1 is polling again"));
  EXPECT_TRUE(notify_.WaitFor("WATCHDOG=1", absl::Seconds(1)));
  EXPECT_TRUE(CreateTenant("blue").ok());

  absl::StatusOr<int> exit = grod_->Stop(SIGTERM);
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0) << grod_->log();
  EXPECT_TRUE(notify_.WaitFor("STOPPING=1", absl::Seconds(1)));
}

TEST_F(LivenessE2eTest, WithoutAStallTheWatchdogKeepsPinging) {
  ASSERT_TRUE(notify_.WaitFor("READY=1", absl::Seconds(10))) << grod_->log();
  // 300 ms interval: a ping every 150 ms, for as long as it runs.
  EXPECT_GE(notify_.Count("WATCHDOG=1", absl::Seconds(2)), 10);
  EXPECT_EQ(Health(), HealthCheckResponse::SERVING);
  EXPECT_THAT(Metrics(), HasSubstr("grod_worker_stalled{lcore=\"1\"} 0"));
}

}  // namespace
}  // namespace grod
