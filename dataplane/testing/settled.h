// Waiting for a data plane to finish with what a test gave it, by its
// counters instead of a quiet period: a quiet period is a guess (too short
// on a loaded machine, where a worker can lose the CPU for longer; too long
// everywhere else), the counters say when the work is done.
#ifndef GROD_DATAPLANE_TESTING_SETTLED_H_
#define GROD_DATAPLANE_TESTING_SETTLED_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/dataplane.h"
#include "common/testing/wait_for.h"

namespace grod::dataplane::testing {

// Waits until `dp` has taken `received` packets from its ports in all
// (rx_packets summed over ports), its tenants hold `held` packets between
// them, and then until every worker has ended one more loop iteration: a
// worker transmits what it emitted before it ends the iteration, so from
// then on everything it sent is on the ports' TX queues. An error says what
// the counters showed when `timeout` ran out.
absl::Status WaitUntilSettled(
    const DataPlane& dp, uint64_t received, uint64_t held = 0,
    absl::Duration timeout = ::grod::testing::kWaitTimeout);

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_SETTLED_H_
