// Section "lookup": what a tenant's route hints add to the forwarding cost
// per packet, from none to 100 000 IPv4 hints.
#ifndef GROD_DATAPLANE_BENCH_HINT_LOOKUP_SECTION_H_
#define GROD_DATAPLANE_BENCH_HINT_LOOKUP_SECTION_H_

#include <cstdint>

namespace grod::dataplane::bench {

// The same LIST forwarding run as the forwarding section with 0..100 000
// IPv4 hints (every hint and the default say LIST, so only the lookup
// differs); 1024 flows to pseudo-random destinations. `reps` interleaved
// repetitions of `batch` packets per hint count.
void HintLookupSection(int reps, uint32_t batch);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_HINT_LOOKUP_SECTION_H_
