// grod's log follows DPDK's --log-level (in eal_args) through the real
// binary: the "grod" type (main, control plane, metrics through
// common/log.h) and the "grod.dataplane" type each have their own level;
// debug lines appear only when asked for, and a quieter level drops notices
// but keeps warnings. See docs/OPERATIONS.md, "Logs".
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/wait_for.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/grod_process.h"

namespace grod {
namespace {

using ::grod::testing::GrodProcess;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

// The harness's EAL arguments (DPDK at warning, grod* at info) plus
// `log_level`, which comes last and so wins.
std::string Config(const std::string& log_level) {
  return testing::TestEalArgsConfig({"net_null0,no-rx=1"}) +
         "idle_sleep_us: 100\neal_args: \"" + log_level + "\"\n";
}

TEST(LoggingE2eTest, DebugLinesOnlyAtDebugLevel) {
  for (const bool debug : {false, true}) {
    SCOPED_TRACE(debug ? "grod:debug" : "default level");
    absl::StatusOr<GrodProcess> grod = GrodProcess::Start(
        Config(debug ? "--log-level=grod:debug" : "--log-level=grod:info"));
    ASSERT_TRUE(grod.ok()) << grod.status();
    absl::StatusOr<int> code = grod->Stop(SIGTERM);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << grod->log();
    const std::string log = grod->log();
    // Notices at both levels: the start-up summary and the clean stop.
    EXPECT_THAT(log, HasSubstr("grod: serving gRPC on "));
    EXPECT_THAT(log, HasSubstr("grod: stopped cleanly"));
    // Debug lines of grod/main.cc and of the control plane.
    const auto debug_lines =
        ::testing::AllOf(HasSubstr("grod: EAL initialised with: -l 0-1"),
                         HasSubstr("grod: control plane: bootstrap applied "
                                   "0 tenant(s) at generation"));
    if (debug) {
      EXPECT_THAT(log, debug_lines);
    } else {
      EXPECT_THAT(log, Not(HasSubstr("EAL initialised with")));
      EXPECT_THAT(log, Not(HasSubstr("bootstrap applied")));
    }
  }
}

// Runs grod with `log_level`, stalls its worker lcore once (the
// --testonly_stall_worker_on_sigusr1_ms hook: a warning from grod/main.cc,
// a warning and a notice from the data plane's liveness monitor), stops it
// with SIGTERM and returns its log. Readiness is read over a unix socket,
// not from the log, since the level may hide the start-up line.
std::string RunWithStall(const std::string& log_level) {
  const std::string sock =
      absl::StrCat("/tmp/grod-logging-e2e-", getpid(), ".sock");
  unlink(sock.c_str());
  GrodProcess grod = GrodProcess::Spawn(
      Config(log_level) + "grpc_listen: \"unix:" + sock + "\"\n",
      {"--worker_stall_ms=500", "--testonly_stall_worker_on_sigusr1_ms=2000"});
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel("unix:" + sock, grpc::InsecureChannelCredentials()));
  auto readiness = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service("grod.v1.Grod");
    HealthCheckResponse resp;
    if (!health->Check(&ctx, req, &resp).ok())
      return HealthCheckResponse::UNKNOWN;
    return resp.status();
  };
  const bool up = testing::WaitFor(
      [&] { return readiness() == HealthCheckResponse::SERVING; },
      absl::Seconds(30), absl::Milliseconds(50));
  EXPECT_TRUE(up) << grod.log();
  if (up) {
    EXPECT_EQ(kill(grod.pid(), SIGUSR1), 0);
    EXPECT_TRUE(testing::WaitFor(
        [&] { return readiness() == HealthCheckResponse::NOT_SERVING; },
        absl::Seconds(10), absl::Milliseconds(20)))
        << "the stall was not detected\n"
        << grod.log();
    EXPECT_TRUE(testing::WaitFor(
        [&] { return readiness() == HealthCheckResponse::SERVING; },
        absl::Seconds(10), absl::Milliseconds(20)))
        << "the worker did not recover\n"
        << grod.log();
  }
  absl::StatusOr<int> code = grod.Stop(SIGTERM);
  EXPECT_TRUE(code.ok()) << code.status();
  if (code.ok()) EXPECT_EQ(*code, 0) << grod.log();
  unlink(sock.c_str());
  return grod.log();
}

TEST(LoggingE2eTest, WarningLevelKeepsWarningsAndDropsNotices) {
  const std::string log = RunWithStall("--log-level=grod*:warning");
  EXPECT_THAT(log, HasSubstr("grod: SIGUSR1: stalling worker lcore 1"));
  EXPECT_THAT(log, HasSubstr("grod: worker lcore 1 stopped polling"));
  for (const char* notice : {"serving gRPC", "is polling again",
                             "shutting down", "stopped cleanly"}) {
    EXPECT_THAT(log, Not(HasSubstr(notice))) << "a notice passed warning level";
  }
}

TEST(LoggingE2eTest, DataPlaneTypeHasItsOwnLevel) {
  const std::string log = RunWithStall("--log-level=grod.dataplane:error");
  // "grod" keeps its level (info from the harness) ...
  EXPECT_THAT(log, HasSubstr("grod: serving gRPC on "));
  EXPECT_THAT(log, HasSubstr("grod: SIGUSR1: stalling worker lcore 1"));
  EXPECT_THAT(log, HasSubstr("grod: stopped cleanly"));
  // ... while the data plane's warning and notice are below error.
  EXPECT_THAT(log, Not(HasSubstr("stopped polling")));
  EXPECT_THAT(log, Not(HasSubstr("is polling again")));
}

}  // namespace
}  // namespace grod
