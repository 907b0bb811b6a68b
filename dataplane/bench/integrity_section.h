// Section "integrity" (not a benchmark): does a segment whose TCP checksum
// is wrong leave with a wrong checksum, as a plain forwarder would send it?
#ifndef GROD_DATAPLANE_BENCH_INTEGRITY_SECTION_H_
#define GROD_DATAPLANE_BENCH_INTEGRITY_SECTION_H_

namespace grod::dataplane::bench {

// Sends 16 segments of one flow, one of them corrupted, through the real
// data plane in BYPASS, LIST and MERGE modes and counts bad checksums out.
void IntegritySection();

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_INTEGRITY_SECTION_H_
