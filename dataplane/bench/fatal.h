// How the benchmark fails: a failed call, a lost packet or a leak ends the
// run with a message and exit status 1, so the smoke test catches it.
#ifndef GROD_DATAPLANE_BENCH_FATAL_H_
#define GROD_DATAPLANE_BENCH_FATAL_H_

#include <string>

#include "absl/status/status.h"

namespace grod::dataplane::bench {

// Prints "forwarding_benchmark: <what>" to stderr and exits 1.
[[noreturn]] void Die(const std::string& what);

// Dies with "<what>: <status>" unless `s` is OK.
void Check(const absl::Status& s, const std::string& what);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_FATAL_H_
