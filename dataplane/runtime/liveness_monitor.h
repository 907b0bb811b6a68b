// Notices a worker lcore that stops polling. Every worker bumps a
// heartbeat once per loop iteration; a thread on the main lcore samples
// them every `period` and marks a worker stalled (Worker::set_stalled)
// when its heartbeat has not moved for `stall_timeout`, and alive again
// when it moves. Each change is logged naming the lcore and reported to
// the callback, so health (grpc.health.v1), metrics and the systemd
// watchdog follow, and control-plane calls waiting on that worker fail
// instead of hanging.
#ifndef GROD_DATAPLANE_RUNTIME_LIVENESS_MONITOR_H_
#define GROD_DATAPLANE_RUNTIME_LIVENESS_MONITOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "dataplane/runtime/worker.h"

namespace grod::dataplane {

class LivenessMonitor {
 public:
  // Starts the monitoring thread. `workers` must outlive the monitor.
  LivenessMonitor(std::vector<Worker*> workers, absl::Duration stall_timeout,
                  absl::Duration period = absl::Milliseconds(50));
  ~LivenessMonitor();  // stops and joins the thread
  LivenessMonitor(const LivenessMonitor&) = delete;
  LivenessMonitor& operator=(const LivenessMonitor&) = delete;

  // Called on the monitor thread after a worker became stalled or alive
  // again (replaces any previous callback; empty = none).
  void SetCallback(std::function<void()> on_change);

  bool AllAlive() const;
  // Times the worker at `index` (in the constructor's order) was found
  // stalled.
  uint64_t stalls(size_t index) const {
    return stalls_[index].load(std::memory_order_relaxed);
  }

 private:
  void Run();

  const std::vector<Worker*> workers_;
  const absl::Duration stall_timeout_;
  const absl::Duration period_;
  std::unique_ptr<std::atomic<uint64_t>[]> stalls_;
  absl::Notification stop_;
  mutable absl::Mutex mu_;
  std::function<void()> on_change_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_LIVENESS_MONITOR_H_
