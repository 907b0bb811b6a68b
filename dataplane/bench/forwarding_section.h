// Section "forwarding": the cost per packet of LIST + unlink, MERGE +
// software GSO (port set SEGMENT_IN_SOFTWARE), no GRO (BYPASS), MERGE to a
// TSO port and MERGE to a port without TSO (linked), on one core.
#ifndef GROD_DATAPLANE_BENCH_FORWARDING_SECTION_H_
#define GROD_DATAPLANE_BENCH_FORWARDING_SECTION_H_

#include <cstdint>
#include <vector>

namespace grod::dataplane::bench {

// Prints the table for TCP4 and UDP4 traffic of each of `flow_counts` flows
// in trains of `train` segments: `reps` interleaved repetitions of `batch`
// packets per mode and configuration.
void ForwardingSection(int reps, uint32_t batch, uint32_t train,
                       const std::vector<uint32_t>& flow_counts);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_FORWARDING_SECTION_H_
