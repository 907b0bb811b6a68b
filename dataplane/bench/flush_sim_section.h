// Section "flush": the flush policies' trade-off between aggregation and
// added latency, on one thread with a virtual clock, so that other processes
// on a shared machine do not distort it.
#ifndef GROD_DATAPLANE_BENCH_FLUSH_SIM_SECTION_H_
#define GROD_DATAPLANE_BENCH_FLUSH_SIM_SECTION_H_

#include <cstdint>

namespace grod::dataplane::bench {

// Runs every policy under every load `reps` times, with `low_packets`
// packets at low rate and `full_packets` at full load.
void FlushSimSection(uint32_t low_packets, uint32_t full_packets, int reps);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_FLUSH_SIM_SECTION_H_
