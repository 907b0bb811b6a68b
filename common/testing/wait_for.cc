#include "common/testing/wait_for.h"

#include "absl/time/clock.h"

namespace grod::testing {

bool WaitFor(absl::FunctionRef<bool()> condition, absl::Duration timeout,
             absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(poll);
  }
  return condition();
}

}  // namespace grod::testing
