// The parser's common case, split out so tests can hold it against the
// general parser (parse.cc).
#ifndef GROD_DATAPLANE_GRO_PARSE_COMMON_H_
#define GROD_DATAPLANE_GRO_PARSE_COMMON_H_

#include "dataplane/gro/bytes.h"
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

// The last step of both parsers, for a packet whose key is valid: the
// reasons that still allow a flow lookup (so the packet leaves behind what
// its flow holds), in the general parser's order.  `padded`: an IP
// datagram ends before its frame.  Reads tcp_flags, payload_len and
// attrs.udp_csum_zero from `out`.
inline void SetLookupReason(bool padded, ParsedPacket* out) {
  if (padded) {
    out->reason = kPassEthPadding;
  } else if (out->tcp_flags & kTcpNoMerge) {
    out->reason = kPassTcpFlags;
  } else if (out->payload_len == 0) {
    out->reason = kPassNoPayload;
  } else if (out->attrs.udp_csum_zero) {
    out->reason = kPassUdpZeroChecksum;
  }
}

}  // namespace grod::gro::internal

#endif  // GROD_DATAPLANE_GRO_PARSE_COMMON_H_
