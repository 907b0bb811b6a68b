#include "grod/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace grod {

absl::Status SdNotify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return absl::OkStatus();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET '", path,
                     "' is not a unix socket path (absolute, or @abstract)"));
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("socket(AF_UNIX): ", std::strerror(errno)));
  }
  const ssize_t sent =
      sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&addr),
             static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  const int err = errno;
  close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    return absl::UnavailableError(
        absl::StrCat("sd_notify to ", path, " failed: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

std::optional<absl::Duration> SdWatchdogInterval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  uint64_t us = 0;
  if (usec == nullptr || !absl::SimpleAtoi(usec, &us) || us == 0) {
    return std::nullopt;
  }
  if (const char* pid = std::getenv("WATCHDOG_PID")) {
    int64_t p = 0;
    if (!absl::SimpleAtoi(pid, &p) || p != getpid()) return std::nullopt;
  }
  return absl::Microseconds(us);
}

SdWatchdog::SdWatchdog(absl::Duration interval, std::function<bool()> healthy)
    : thread_([this, interval, healthy = std::move(healthy)] {
        do {
          if (healthy()) SdNotify("WATCHDOG=1").IgnoreError();
        } while (!stop_.WaitForNotificationWithTimeout(interval / 2));
      }) {}

SdWatchdog::~SdWatchdog() {
  stop_.Notify();
  thread_.join();
}

}  // namespace grod
