// The one place tests wait for something to happen: poll a condition until
// it holds or a generous deadline passes. A test waits on what it expects
// (a counter, a log line, a process exit), never for a fixed time: a fixed
// sleep is too short on a loaded machine and too long everywhere else.
// scripts/check_test_waits.sh fails on a sleep in test code outside this
// library (and its allow-list, each entry with its reason).
#ifndef GROD_COMMON_TESTING_WAIT_FOR_H_
#define GROD_COMMON_TESTING_WAIT_FOR_H_

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace grod::testing {

// Generous: only a broken build should ever reach it.
inline constexpr absl::Duration kWaitTimeout = absl::Seconds(30);

// Calls `condition` until it returns true (then true) or `timeout` has
// passed (then false, after one last call at the deadline). Sleeps `poll`
// between calls.
bool WaitFor(absl::FunctionRef<bool()> condition,
             absl::Duration timeout = kWaitTimeout,
             absl::Duration poll = absl::Milliseconds(5));

}  // namespace grod::testing

#endif  // GROD_COMMON_TESTING_WAIT_FOR_H_
