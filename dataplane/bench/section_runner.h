// Runs one benchmark section and reports how much CPU the benchmark got
// around it: on a shared machine other processes distort every number, so
// each section says how loaded the machine was.
#ifndef GROD_DATAPLANE_BENCH_SECTION_RUNNER_H_
#define GROD_DATAPLANE_BENCH_SECTION_RUNNER_H_

#include <functional>

namespace grod::dataplane::bench {

// Waits up to `wait_quiet_seconds` until a spinning thread gets >= 90% of a
// CPU on both the main and the worker lcore, runs `run`, then prints the
// section's duration, those CPU shares before and after, and /proc/loadavg.
void RunSection(const char* name, double wait_quiet_seconds,
                const std::function<void()>& run);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_SECTION_RUNNER_H_
