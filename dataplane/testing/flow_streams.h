// Splits captured frames into flows and their payload streams, so tests can
// check "per flow, the bytes out equal the bytes in, in order" whatever GRO
// and GSO did to packet boundaries in between.
#ifndef GROD_DATAPLANE_TESTING_FLOW_STREAMS_H_
#define GROD_DATAPLANE_TESTING_FLOW_STREAMS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grod::testing {

struct FlowStreams {
  // Flow ("tcp4 10.0.0.1:40000>10.100.0.1:5201 vni=1000") -> bytes.
  // TCP: payload concatenated in arrival order. UDP: each datagram's
  // payload, each preceded by its 2-byte length, so datagram boundaries
  // count too.
  std::map<std::string, std::string> streams;
  // Flow -> number of frames.
  std::map<std::string, int> frames;
  int unparsed = 0;  // frames that are not (VXLAN-)IP TCP/UDP
  // TCP segments whose checksum or IPv4 header checksum is wrong.
  int bad_checksums = 0;
  // Largest TCP/UDP payload seen in one frame, per flow.
  std::map<std::string, size_t> max_payload;
};

FlowStreams SplitFlows(const std::vector<std::vector<uint8_t>>& frames,
                       uint16_t vxlan_port = 4789);

// "" when every flow's stream is equal; otherwise one short line per
// differing flow (missing, extra, or size and first differing offset).
std::string DiffStreams(const FlowStreams& want, const FlowStreams& got);

// Frames of a classic libpcap file (what a net_pcap port wrote).
absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadPcap(
    const std::string& path);

}  // namespace grod::testing

#endif  // GROD_DATAPLANE_TESTING_FLOW_STREAMS_H_
