// Turning held runs into output packets: mbuf metadata (l2/l3/l4 lengths,
// packet_type), merged-header rewrite with TSO/USO metadata, and LIST heads.
#ifndef GROD_DATAPLANE_GRO_OUTPUT_H_
#define GROD_DATAPLANE_GRO_OUTPUT_H_

#include <rte_mbuf.h>

#include "dataplane/gro/flow_table.h"
#include "dataplane/gro/gro_engine.h"

namespace grod::gro {

// Sets l2/l3/l4 (and outer) lengths and packet_type from the parsed layout.
void SetMetadata(rte_mbuf* m, const Layout& l);
// Rewrites the head of a merged MERGE run (lengths, IPv4 IDs stay, header
// checksums, ORed TCP flags, TSO pseudo-header checksum), sets the head
// mbuf's pkt_len / nb_segs (kept lazily while held) and the offload flags.
// Requires run.segs >= 2.
void FinalizeMerged(const Layout& l, const Run& r);
// Marks a LIST run (segs >= 2) as a list: head metadata, count, and the
// last member's NULL link.
void FinalizeList(const Layout& l, const Run& r);

inline void Push(Output* out, rte_mbuf* m) {
  if (out->count == out->capacity) out->drain(out, out->arg);
  out->pkts[out->count++] = m;
}

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_OUTPUT_H_
