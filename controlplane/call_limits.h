// Per-principal caps on calls: a token bucket for mutating calls and a
// count of open WatchStats streams. The principals are the names in the
// credentials file (or "anonymous"), so the maps stay small.
#ifndef GROD_CONTROLPLANE_CALL_LIMITS_H_
#define GROD_CONTROLPLANE_CALL_LIMITS_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace grod::controlplane {

// Each principal's bucket holds up to `burst` tokens and refills at
// `per_second`; a mutating call takes one.
class MutationRateLimiter {
 public:
  MutationRateLimiter(uint32_t per_second, uint32_t burst);

  // OK (a token taken) or RESOURCE_EXHAUSTED saying when to retry; then
  // *retry_after is that wait (rounded up to a millisecond).
  absl::Status Take(const std::string& principal, absl::Time now,
                    absl::Duration* retry_after);

 private:
  struct Bucket {
    double tokens;
    absl::Time last;
  };
  const double per_second_;
  const double burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// Open streams, in total and per principal.
class StreamSlots {
 public:
  StreamSlots(uint32_t total, uint32_t per_principal);

  // RESOURCE_EXHAUSTED naming the cap reached, or OK and a slot taken
  // (give it back with Release).
  absl::Status Acquire(const std::string& principal);
  void Release(const std::string& principal);

 private:
  const uint32_t total_;
  const uint32_t per_principal_;
  absl::Mutex mu_;
  uint32_t open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint32_t> by_principal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_CALL_LIMITS_H_
