// sd_notify over a real unix datagram socket, as systemd listens on it.
#include "grod/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace grod {
namespace {

// A bound datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  // `name` starting with '@': abstract namespace.
  explicit NotifySocket(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    if (name.size() >= sizeof(addr.sun_path)) return;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@')
      addr.sun_path[0] = '\0';
    else
      unlink(name.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                  offsetof(sockaddr_un, sun_path) + name.size()) == 0;
    timeval tv{0, 200000};  // receives give up after 200 ms
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~NotifySocket() {
    close(fd_);
    if (name_[0] != '@') unlink(name_.c_str());
  }
  bool bound() const { return bound_; }
  // The next datagram, or "" after the timeout.
  std::string Receive() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, n) : "";
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

// Bazel's TEST_TMPDIR can be longer than sun_path (108 bytes).
std::string SocketPath() {
  return "/tmp/grod-sdn-test-" + std::to_string(getpid());
}

TEST(SdNotifyTest, WithoutNotifySocketItIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(SdNotify("READY=1").ok());
}

TEST(SdNotifyTest, SendsTheStateAsOneDatagram) {
  NotifySocket sock(SocketPath());
  ASSERT_TRUE(sock.bound());
  setenv("NOTIFY_SOCKET", SocketPath().c_str(), 1);
  ASSERT_TRUE(SdNotify("READY=1\nSTATUS=forwarding").ok());
  EXPECT_EQ(sock.Receive(), "READY=1\nSTATUS=forwarding");
  unsetenv("NOTIFY_SOCKET");
}

TEST(SdNotifyTest, AbstractSocket) {
  const std::string name = "@grod-sdn-test-" + std::to_string(getpid());
  NotifySocket sock(name);
  ASSERT_TRUE(sock.bound());
  setenv("NOTIFY_SOCKET", name.c_str(), 1);
  ASSERT_TRUE(SdNotify("STOPPING=1").ok());
  EXPECT_EQ(sock.Receive(), "STOPPING=1");
  unsetenv("NOTIFY_SOCKET");
}

TEST(SdNotifyTest, ABadOrMissingSocketIsAnError) {
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_EQ(SdNotify("READY=1").code(), absl::StatusCode::kInvalidArgument);
  setenv("NOTIFY_SOCKET", (SocketPath() + "-nobody").c_str(), 1);
  EXPECT_EQ(SdNotify("READY=1").code(), absl::StatusCode::kUnavailable);
  unsetenv("NOTIFY_SOCKET");
}

TEST(SdNotifyTest, WatchdogIntervalFromTheEnvironment) {
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_FALSE(SdWatchdogInterval().has_value());
  setenv("WATCHDOG_USEC", "3000000", 1);
  EXPECT_EQ(SdWatchdogInterval(), absl::Seconds(3));
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(SdWatchdogInterval(), absl::Seconds(3));
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_FALSE(SdWatchdogInterval().has_value()) << "meant for another pid";
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST(SdNotifyTest, WatchdogPingsOnlyWhileHealthy) {
  NotifySocket sock(SocketPath());
  ASSERT_TRUE(sock.bound());
  setenv("NOTIFY_SOCKET", SocketPath().c_str(), 1);
  std::atomic<bool> healthy{true};
  {
    SdWatchdog watchdog(absl::Milliseconds(100),
                        [&] { return healthy.load(); });
    for (int i = 0; i < 3; ++i) EXPECT_EQ(sock.Receive(), "WATCHDOG=1");
    healthy = false;
    // At most one ping already on its way, then silence.
    std::string got = sock.Receive();
    if (!got.empty()) got = sock.Receive();
    EXPECT_EQ(got, "");
    EXPECT_EQ(sock.Receive(), "");
    healthy = true;
    EXPECT_EQ(sock.Receive(), "WATCHDOG=1");
  }
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace grod
