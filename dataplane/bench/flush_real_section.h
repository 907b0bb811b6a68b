// Section "flush_real": the flush policies with the real DpdkDataPlane and
// its worker thread. Meaningful only with two otherwise idle CPUs, hence not
// run by default (section "flush" measures the same on one thread).
#ifndef GROD_DATAPLANE_BENCH_FLUSH_REAL_SECTION_H_
#define GROD_DATAPLANE_BENCH_FLUSH_REAL_SECTION_H_

namespace grod::dataplane::bench {

// Runs every policy under every load for `seconds`, `reps` times.
void FlushRealSection(double seconds, int reps);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_FLUSH_REAL_SECTION_H_
