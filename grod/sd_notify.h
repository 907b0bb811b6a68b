// systemd's service notification protocol (sd_notify(3)), spoken directly:
// one datagram of "KEY=VALUE" lines to the unix socket named by
// $NOTIFY_SOCKET (a leading '@' names an abstract socket). No libsystemd;
// outside systemd (no $NOTIFY_SOCKET) every call is a no-op.
//
// grod sends READY=1 once ports forward and gRPC serves, WATCHDOG=1 while
// every worker lcore polls (SdWatchdog), and STOPPING=1 on shutdown.
#ifndef GROD_GROD_SD_NOTIFY_H_
#define GROD_GROD_SD_NOTIFY_H_

#include <functional>
#include <optional>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace grod {

// Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET. OK if it is unset.
absl::Status SdNotify(std::string_view state);

// The watchdog interval systemd expects pings within ($WATCHDOG_USEC, for
// this process if $WATCHDOG_PID names another one: none), or nullopt.
std::optional<absl::Duration> SdWatchdogInterval();

// Sends WATCHDOG=1 every interval / 2 while `healthy()` holds, so systemd
// restarts the service when it stops being healthy for `interval`.
class SdWatchdog {
 public:
  SdWatchdog(absl::Duration interval, std::function<bool()> healthy);
  ~SdWatchdog();  // stops pinging
  SdWatchdog(const SdWatchdog&) = delete;
  SdWatchdog& operator=(const SdWatchdog&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace grod

#endif  // GROD_GROD_SD_NOTIFY_H_
