#include "dataplane/testing/settled.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace grod::dataplane::testing {
namespace {

struct Progress {
  uint64_t received = 0;
  uint64_t held = 0;
  std::vector<uint64_t> iterations;  // per worker: cycles spent so far
};

Progress Read(const DataPlane& dp) {
  const StatsSnapshot s = dp.Stats();
  Progress p;
  for (const PortCounters& port : s.ports) p.received += port.rx_packets;
  for (const TenantCounters& t : s.tenants) p.held += t.held_packets;
  // total_cycles grows at the end of every forwarding loop iteration,
  // after the worker's egress flush.
  for (const WorkerCounters& w : s.workers) {
    p.iterations.push_back(w.total_cycles);
  }
  return p;
}

}  // namespace

absl::Status WaitUntilSettled(const DataPlane& dp, uint64_t received,
                              uint64_t held, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Progress seen;
  if (!::grod::testing::WaitFor(
          [&] {
            seen = Read(dp);
            return seen.received == received && seen.held == held;
          },
          timeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the data plane received ", seen.received, " of ", received,
        " packets and holds ", seen.held, " (waiting for ", held, ")"));
  }
  // Read again after the condition held, so the iteration counts are no
  // older than what it saw; one more iteration each, and all is sent.
  const std::vector<uint64_t> before = Read(dp).iterations;
  if (!::grod::testing::WaitFor(
          [&] {
            seen = Read(dp);
            for (size_t w = 0; w < before.size(); ++w) {
              if (seen.iterations[w] == before[w]) return false;
            }
            return true;
          },
          deadline - absl::Now(), absl::Microseconds(100))) {
    return absl::DeadlineExceededError(
        "a worker ended no loop iteration (stalled or not forwarding)");
  }
  if (seen.received != received || seen.held != held) {
    return absl::FailedPreconditionError(
        absl::StrCat("the data plane changed while settling: received ",
                     seen.received, " (expected ", received, "), holds ",
                     seen.held, " (expected ", held, ")"));
  }
  return absl::OkStatus();
}

}  // namespace grod::dataplane::testing
