// The embedded default's traffic: a pcap that grod replays through its
// virtual ports, so a fresh checkout shows real GRO work with no NIC.
#ifndef GROD_DATAPLANE_TRAFFIC_SAMPLE_TRAFFIC_H_
#define GROD_DATAPLANE_TRAFFIC_SAMPLE_TRAFFIC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace grod {

// One L4 flow as seen on the wire.
struct FlowAddress {
  bool v6 = false;
  uint32_t src_v4 = 0x0a000001, dst_v4 = 0x0a640001;  // host byte order
  uint8_t src_v6_last = 1, dst_v6_last = 2;           // 2001:db8::<last>
  uint16_t sport = 40000, dport = 5201;
  uint16_t vlan = 0;  // 802.1Q VLAN ID; 0 = untagged
};

// A TCP segment with a valid checksum; payload byte i is a function of
// (seq + i) and the ports, so streams can be checked after regrouping.
std::vector<uint8_t> TcpFrame(const FlowAddress& flow, uint32_t seq, size_t len,
                              uint8_t flags = 0x10);
// A UDP datagram; `index` seeds its payload.
std::vector<uint8_t> UdpFrame(const FlowAddress& flow, uint32_t index,
                              size_t len);

// Interleaved bulk flows cut into MSS-sized segments: TCP over IPv4 and
// IPv6, UDP over IPv4 (equal-size datagrams), VXLAN-encapsulated TCP/IPv4,
// plus pure ACKs. Checksums are valid. Deterministic.
std::vector<std::vector<uint8_t>> SampleFrames();

// Writes frames as a classic libpcap file (Ethernet link type).
absl::Status WritePcap(const std::string& path,
                       const std::vector<std::vector<uint8_t>>& frames);

}  // namespace grod

#endif  // GROD_DATAPLANE_TRAFFIC_SAMPLE_TRAFFIC_H_
