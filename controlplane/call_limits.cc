#include "controlplane/call_limits.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace grod::controlplane {

MutationRateLimiter::MutationRateLimiter(uint32_t per_second, uint32_t burst)
    : per_second_(per_second), burst_(std::max<uint32_t>(burst, 1)) {}

absl::Status MutationRateLimiter::Take(const std::string& principal,
                                       absl::Time now,
                                       absl::Duration* retry_after) {
  absl::MutexLock l(&mu_);
  auto [it, fresh] = buckets_.try_emplace(principal, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh && now > b.last) {
    b.tokens = std::min(
        burst_, b.tokens + absl::ToDoubleSeconds(now - b.last) * per_second_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return absl::OkStatus();
  }
  const double ms = std::ceil((1.0 - b.tokens) / per_second_ * 1000.0);
  *retry_after = absl::Milliseconds(std::max(ms, 1.0));
  return absl::ResourceExhaustedError(
      absl::StrCat("principal ", principal, " made more than ", per_second_,
                   " changes per second (burst ", burst_,
                   "; limits.mutations_per_second); "
                   "retry in ",
                   absl::ToInt64Milliseconds(*retry_after), "ms"));
}

StreamSlots::StreamSlots(uint32_t total, uint32_t per_principal)
    : total_(total), per_principal_(per_principal) {}

absl::Status StreamSlots::Acquire(const std::string& principal) {
  absl::MutexLock l(&mu_);
  uint32_t& mine = by_principal_[principal];
  if (mine >= per_principal_) {
    if (mine == 0) by_principal_.erase(principal);
    return absl::ResourceExhaustedError(absl::StrCat(
        "principal ", principal, " already has ", per_principal_,
        " WatchStats streams open (limits.max_watch_streams_per_principal); "
        "close one or use GetStats"));
  }
  if (open_ >= total_) {
    if (mine == 0) by_principal_.erase(principal);
    return absl::ResourceExhaustedError(absl::StrCat(
        total_,
        " WatchStats streams are open, the most grod serves "
        "(limits.max_watch_streams); retry later or use GetStats"));
  }
  ++mine;
  ++open_;
  return absl::OkStatus();
}

void StreamSlots::Release(const std::string& principal) {
  absl::MutexLock l(&mu_);
  auto it = by_principal_.find(principal);
  if (it == by_principal_.end()) return;
  --open_;
  if (--it->second == 0) by_principal_.erase(it);
}

}  // namespace grod::controlplane
