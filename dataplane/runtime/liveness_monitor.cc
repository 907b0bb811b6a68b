#include "dataplane/runtime/liveness_monitor.h"

#include <string>

#include "absl/time/clock.h"
#include "dataplane/runtime/log.h"

namespace grod::dataplane {

LivenessMonitor::LivenessMonitor(std::vector<Worker*> workers,
                                 absl::Duration stall_timeout,
                                 absl::Duration period)
    : workers_(std::move(workers)),
      stall_timeout_(stall_timeout),
      period_(period),
      stalls_(new std::atomic<uint64_t>[workers_.size()]) {
  for (size_t i = 0; i < workers_.size(); ++i) stalls_[i] = 0;
  thread_ = std::thread([this] { Run(); });
}

LivenessMonitor::~LivenessMonitor() {
  stop_.Notify();
  thread_.join();
  for (Worker* w : workers_) w->set_stalled(false);
}

void LivenessMonitor::SetCallback(std::function<void()> on_change) {
  absl::MutexLock lock(&mu_);
  on_change_ = std::move(on_change);
}

bool LivenessMonitor::AllAlive() const {
  for (const Worker* w : workers_) {
    if (w->stalled()) return false;
  }
  return true;
}

void LivenessMonitor::Run() {
  struct Seen {
    uint64_t heartbeat;
    absl::Time since;  // when it last moved
  };
  std::vector<Seen> seen;
  for (const Worker* w : workers_)
    seen.push_back({w->heartbeat(), absl::Now()});
  while (!stop_.WaitForNotificationWithTimeout(period_)) {
    const absl::Time now = absl::Now();
    bool changed = false;
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i];
      const uint64_t beat = w->heartbeat();
      if (beat != seen[i].heartbeat) {
        if (w->stalled()) {
          w->set_stalled(false);
          changed = true;
          GROD_DP_LOG(NOTICE, "worker lcore %u is polling again after %s",
                      w->lcore(),
                      absl::FormatDuration(now - seen[i].since).c_str());
        }
        seen[i] = {beat, now};
      } else if (!w->stalled() && now - seen[i].since >= stall_timeout_) {
        w->set_stalled(true);
        stalls_[i].fetch_add(1, std::memory_order_relaxed);
        changed = true;
        GROD_DP_LOG(WARNING,
                    "worker lcore %u stopped polling: no heartbeat for %s; "
                    "health is NOT_SERVING until it recovers",
                    w->lcore(),
                    absl::FormatDuration(now - seen[i].since).c_str());
      }
    }
    if (changed) {
      absl::MutexLock lock(&mu_);
      if (on_change_) on_change_();
    }
  }
}

}  // namespace grod::dataplane
