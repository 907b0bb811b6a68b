// The embedded default's traffic: a pcap that grod replays through its
// virtual ports, so a fresh checkout shows real GRO work with no NIC.
#ifndef GROD_GROD_SAMPLE_TRAFFIC_H_
#define GROD_GROD_SAMPLE_TRAFFIC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace grod {

// Interleaved bulk flows cut into MSS-sized segments: TCP over IPv4 and
// IPv6, UDP over IPv4 (equal-size datagrams), VXLAN-encapsulated TCP/IPv4,
// plus pure ACKs. Checksums are valid. Deterministic.
std::vector<std::vector<uint8_t>> SampleFrames();

// Writes frames as a classic libpcap file (Ethernet link type).
absl::Status WritePcap(const std::string& path,
                       const std::vector<std::vector<uint8_t>>& frames);

}  // namespace grod

#endif  // GROD_GROD_SAMPLE_TRAFFIC_H_
