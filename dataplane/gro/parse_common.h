// The parser's common case, split out so tests can hold it against the
// general parser (parse.cc).
#ifndef GROD_DATAPLANE_GRO_PARSE_COMMON_H_
#define GROD_DATAPLANE_GRO_PARSE_COMMON_H_

#include "dataplane/gro/gro_engine.h"

namespace grod::gro::internal {

// Untagged Ethernet, IPv4 without options and not a fragment (or IPv6
// with TCP/UDP as its next header), TCP or non-VXLAN UDP, every header in
// the first segment and every length consistent: fills `out` (zeroed by
// the caller) exactly as ParseGeneral() would and returns true.  Anything
// else: returns false and leaves `out` as it was.
bool ParseCommon(const rte_mbuf* m, const ParseConfig& cfg, ParsedPacket* out);

// The general parser: every supported shape, every malformed case.
void ParseGeneral(const rte_mbuf* m, const ParseConfig& cfg, ParsedPacket* out);

}  // namespace grod::gro::internal

#endif  // GROD_DATAPLANE_GRO_PARSE_COMMON_H_
