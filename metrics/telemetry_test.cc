// Starts EAL (no hugepages, no PCI) with telemetry on, then talks to the
// telemetry socket the way dpdk-telemetry.py does, and with the script
// itself.
#include "metrics/telemetry.h"

#include <rte_eal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/testing/fake_dataplane.h"
#include "gtest/gtest.h"
#include "metrics/testing/sample_stats.h"

namespace grod::metrics {
namespace {

std::string g_prefix;

class TelemetryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Non-root EAL puts its runtime dir (and the socket) under
    // $XDG_RUNTIME_DIR; root uses /var/run/dpdk/<prefix>. Either is fine as
    // long as the prefix is unique to this process.
    const char* tmp = std::getenv("TEST_TMPDIR");
    setenv("XDG_RUNTIME_DIR", tmp ? tmp : "/tmp", 1);
    g_prefix = "m" + std::to_string(getpid());
    std::vector<std::string> args = {"telemetry_test",
                                     "--no-huge",
                                     "-m",
                                     "256",
                                     "--no-pci",
                                     "-l",
                                     "0",
                                     "--no-shconf",
                                     "--file-prefix=" + g_prefix,
                                     "--log-level=lib.eal:error"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0);
    socket_path_ =
        std::string(rte_eal_get_runtime_dir()) + "/dpdk_telemetry.v2";
  }

  static void TearDownTestSuite() {
    const std::string dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    if (dir.find(g_prefix) != std::string::npos) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

  void SetUp() override {
    dp_.SetStats(testing::SampleStats(1));
    auto reg = RegisterTelemetry(&dp_);
    ASSERT_TRUE(reg.ok()) << reg.status();
    reg_ = std::move(*reg);
  }

  // One request/reply over SOCK_SEQPACKET, skipping the greeting the server
  // sends on connect.
  static std::string Ask(const std::string& cmd) {
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path_.c_str());
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "connect " << socket_path_ << ": " << strerror(errno);
      close(fd);
      return "";
    }
    std::string buf(65536, '\0');
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);  // greeting
    EXPECT_GT(n, 0);
    EXPECT_EQ(send(fd, cmd.data(), cmd.size(), 0),
              static_cast<ssize_t>(cmd.size()));
    n = recv(fd, buf.data(), buf.size(), 0);
    close(fd);
    return n > 0 ? buf.substr(0, n) : "";
  }

  static std::string socket_path_;
  grod::testing::FakeDataPlane dp_;
  std::unique_ptr<TelemetryRegistration> reg_;
};

std::string TelemetryTest::socket_path_;

TEST_F(TelemetryTest, ListsTenants) {
  EXPECT_EQ(Ask("/grod/tenants"), R"({"/grod/tenants":["blue","red"]})");
}

TEST_F(TelemetryTest, TenantCounters) {
  const std::string reply = Ask("/grod/tenant,blue");
  for (const char* want : {
           R"("tenant":"blue")",
           R"("packets_in":100)",
           R"("merged_packets_out":10)",
           R"("held_packets":7)",
           R"("flushes/timeout":2)",
           R"("passthrough/not_ip":1)",
           R"("single_packets_out":2)",
           R"("segments_per_output":[10,0,5,10,0,0,0,0])",
       }) {
    EXPECT_NE(reply.find(want), std::string::npos) << want << "\n" << reply;
  }
  EXPECT_EQ(Ask("/grod/tenant,nobody"), R"({"/grod/tenant":null})");
}

TEST_F(TelemetryTest, PortCounters) {
  const std::string all = Ask("/grod/ports");
  for (const char* want :
       {R"("port_id":[0,1])", R"("name":["net_ring0","net_ring1"])",
        R"("rx_packets":[100,100])"}) {
    EXPECT_NE(all.find(want), std::string::npos) << want << "\n" << all;
  }
  const std::string one = Ask("/grod/port,1");
  EXPECT_NE(one.find(R"("name":"net_ring1")"), std::string::npos) << one;
  EXPECT_NE(one.find(R"("tx_dropped":1)"), std::string::npos) << one;
  EXPECT_NE(one.find(R"("ip_fragments":7)"), std::string::npos) << one;
}

TEST_F(TelemetryTest, CountersFollowTheDataPlane) {
  dp_.SetStats(testing::SampleStats(4));
  EXPECT_NE(Ask("/grod/tenant,red").find(R"("packets_in":400)"),
            std::string::npos);
}

TEST_F(TelemetryTest, DetachedCommandsAnswerNull) {
  reg_.reset();
  EXPECT_EQ(Ask("/grod/tenants"), R"({"/grod/tenants":null})");
  auto again = RegisterTelemetry(&dp_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(RegisterTelemetry(&dp_).ok());  // one at a time
}

// The stock client finds the socket by file prefix and lists our tenants.
TEST_F(TelemetryTest, StockClientListsTenants) {
  const std::string cmd =
      "echo /grod/tenants | /usr/bin/python3 "
      "/usr/bin/dpdk-telemetry.py -f " +
      g_prefix + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  pclose(p);
  EXPECT_NE(out.find("\"blue\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"red\""), std::string::npos) << out;
}

}  // namespace
}  // namespace grod::metrics
