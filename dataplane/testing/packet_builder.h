// Hand-built packets for GRO tests: Ethernet (+802.1Q/QinQ), IPv4 (with
// options, fragments) or IPv6, TCP or UDP, VXLAN.  Checksums are correct
// unless a test breaks them on purpose.
#ifndef GROD_DATAPLANE_TESTING_PACKET_BUILDER_H_
#define GROD_DATAPLANE_TESTING_PACKET_BUILDER_H_

#include <netinet/in.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <vector>

namespace grod::gro::testing {

using Bytes = std::vector<uint8_t>;

struct PacketSpec {
  std::array<uint8_t, 6> dst_mac{2, 0, 0, 0, 0, 1};
  std::array<uint8_t, 6> src_mac{2, 0, 0, 0, 0, 2};
  std::vector<uint16_t> vlans;  // TCIs, outermost first (2 = QinQ)
  bool v6 = false;
  std::array<uint8_t, 16> src_ip{10, 0, 0, 1};
  std::array<uint8_t, 16> dst_ip{10, 0, 0, 2};
  uint8_t ttl = 64, tos = 0;
  uint32_t flow_label = 0;
  uint16_t ip_id = 0;
  bool df = true, mf = false;
  uint16_t frag_off = 0;  // bytes
  Bytes ip_options;       // IPv4, multiple of 4
  uint8_t proto = IPPROTO_TCP;
  uint16_t sport = 1000, dport = 2000;
  uint32_t seq = 1000, ack = 1;
  uint8_t tcp_flags = 0x10;  // ACK
  Bytes tcp_options;         // multiple of 4
  Bytes payload;
  bool raw_ip_payload = false;  // no L4 header: payload is the IP payload
  bool zero_udp_checksum = false;
};

// Ethernet frame for `s`.
Bytes Build(const PacketSpec& s);
// VXLAN: `outer` (UDP, dport 4789 by default here) carrying `inner_frame`.
Bytes BuildVxlan(PacketSpec outer, uint32_t vni, const Bytes& inner_frame);
// Splits an IPv4 frame (no VXLAN) into fragments of `chunk` IP-payload bytes
// (multiple of 8); IDs are kept, checksums fixed.
std::vector<Bytes> Fragment(const Bytes& frame, uint32_t chunk);
// Payload of n bytes, deterministic from seed.
Bytes Payload(size_t n, uint32_t seed);
// Recomputes IPv4 header / L4 checksums of a plain (non-VXLAN) frame.
void FixChecksums(Bytes* frame);

// mbuf helpers.  split > 0: first segment holds `split` bytes.
rte_mbuf* ToMbuf(rte_mempool* pool, const Bytes& b, uint32_t split = 0);
Bytes ToBytes(const rte_mbuf* m);

}  // namespace grod::gro::testing

#endif  // GROD_DATAPLANE_TESTING_PACKET_BUILDER_H_
