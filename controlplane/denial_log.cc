#include "controlplane/denial_log.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/log.h"

namespace grod::controlplane {

DenialLog::DenialLog(double burst, double per_second)
    : burst_(burst),
      per_second_(per_second),
      tokens_(burst),
      last_(absl::Now()) {}

bool DenialLog::Log(const std::string& line) {
  uint64_t suppressed = 0;
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = absl::Now();
    tokens_ = std::min(
        burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * per_second_);
    last_ = now;
    if (tokens_ < 1) {
      ++suppressed_since_;
      ++suppressed_total_;
      return false;
    }
    tokens_ -= 1;
    suppressed = suppressed_since_;
    suppressed_since_ = 0;
  }
  if (suppressed > 0) {
    GROD_LOG(WARNING, line, " (", suppressed,
             " similar lines suppressed before this)");
  } else {
    GROD_LOG(WARNING, line);
  }
  return true;
}

uint64_t DenialLog::suppressed_total() const {
  absl::MutexLock l(&mu_);
  return suppressed_total_;
}

}  // namespace grod::controlplane
