// Rate-limited log of refused calls: a flood of bad tokens (a scanner, a
// misconfigured client in a loop) must not flood grod's log or slow it with
// writes. A token bucket lets `burst` lines through at once and `per_second`
// after that; suppressed lines are counted and the count is reported on the
// next line that is written.
#ifndef GROD_CONTROLPLANE_DENIAL_LOG_H_
#define GROD_CONTROLPLANE_DENIAL_LOG_H_

#include <cstdint>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grod::controlplane {

class DenialLog {
 public:
  explicit DenialLog(double burst = 20, double per_second = 1);

  // Logs `line` as a warning (common/log.h; plus the number of lines
  // suppressed since the last written one) if the budget allows; otherwise
  // counts it.
  // Returns whether it was written.
  bool Log(const std::string& line);

  uint64_t suppressed_total() const;

 private:
  const double burst_, per_second_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
  uint64_t suppressed_since_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t suppressed_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_DENIAL_LOG_H_
