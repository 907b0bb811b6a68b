// The fuzz entry shared by the libFuzzer binary (run_fuzz.sh) and the
// gtest that replays the seed corpus plus random inputs (fuzz_test.cc).
#ifndef GROD_DATAPLANE_GRO_FUZZ_FUZZ_ENTRY_H_
#define GROD_DATAPLANE_GRO_FUZZ_FUZZ_ENTRY_H_

#include <cstddef>
#include <cstdint>

namespace grod::gro::fuzz {

// Initializes DPDK once (no hugepages) and runs one input through Parse and
// a Context, expands every output (Unlink / Segment) and frees it.  Aborts
// on a broken invariant (mbuf leak, list length, segment count, and the
// output invariants of output_invariants.h: each input exactly once, at
// most max_segments per output, single-input outputs untouched, merged
// outputs' lengths / IPv4 header checksum / limits, order per 5-tuple).  The same
// packets also go through a second Context by the burst API (the fast
// path): outputs (bytes and metadata, in order) and counters must be
// identical.
// Input: [cfg flags][gro types] then records [len hi][len lo][flags][bytes].
int GroFuzzOne(const uint8_t* data, size_t size);

}  // namespace grod::gro::fuzz

#endif  // GROD_DATAPLANE_GRO_FUZZ_FUZZ_ENTRY_H_
