// The virtio-net header a Linux tap opened with IFF_VNET_HDR puts before
// every frame, both ways: what grod writes tells the kernel "this is one
// GSO packet of gso_size segments, checksum partial" (so its stack takes
// a merged packet as one skb), what it reads says the same of the
// container's own GSO packets.  Pure conversions between that header and
// DPDK's mbuf offload metadata; no I/O.
#ifndef GROD_DATAPLANE_RUNTIME_VNET_HEADER_H_
#define GROD_DATAPLANE_RUNTIME_VNET_HEADER_H_

#include <rte_mbuf.h>

#include <cstdint>

namespace grod::dataplane {

// struct virtio_net_hdr_v1 (virtio 1.2, 5.1.6), 12 bytes, little endian
// (tun's default on little-endian hosts; TUNSETVNETHDRSZ 12).
// <linux/virtio_net.h> is not valid C++ (a member named "class").
struct VnetHeader {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;      // bytes of headers (L2 to end of L4)
  uint16_t gso_size = 0;     // payload bytes per segment
  uint16_t csum_start = 0;   // checksum covers [csum_start, end)
  uint16_t csum_offset = 0;  // stored at csum_start + csum_offset
  uint16_t num_buffers = 0;  // unused by tun
};
static_assert(sizeof(VnetHeader) == 12);

inline constexpr uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kVnetDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr uint8_t kVnetGsoNone = 0;
inline constexpr uint8_t kVnetGsoTcpv4 = 1;
inline constexpr uint8_t kVnetGsoUdp = 3;  // UFO (IP fragmentation)
inline constexpr uint8_t kVnetGsoTcpv6 = 4;
inline constexpr uint8_t kVnetGsoUdpL4 = 5;  // USO
inline constexpr uint8_t kVnetGsoEcn = 0x80;

// The header for frame `m` as egress hands it to a tap port: no TX flag ->
// all zero; a checksum request (TX_TCP/UDP_CKSUM) -> NEEDS_CSUM; a merged
// packet (TX_TCP_SEG / TX_UDP_SEG, tso_segsz) -> a TCPV4/TCPV6/UDP_L4 GSO
// packet.  Also makes the frame what Linux expects of CHECKSUM_PARTIAL: the
// L4 checksum field holds the pseudo-header sum WITH the L4 length (DPDK's
// TSO contract leaves it out; the kernel's segmentation adjusts from it),
// and a requested IPv4 header checksum is computed.  False (frame
// untouched) if the metadata does not describe the frame or asks for what
// a tap cannot take (tunnel offloads): egress drops it as unsendable.
bool PrepareForKernel(rte_mbuf* m, VnetHeader* h);

// Applies the header the kernel gave with frame `m` (read from a tap): a
// partial checksum is completed in software (RX_L4_CKSUM_GOOD), a
// DATA_VALID one marked RX_L4_CKSUM_GOOD, and a GSO packet becomes an
// mbuf with TSO/USO metadata (TX_TCP_SEG / TX_UDP_SEG, l2/l3/l4 lengths,
// tso_segsz, the pseudo-header sum without length in its L4 field), which
// the GRO engine passes through as already aggregated and egress cuts
// with the peer's TSO or software GSO.  False if header and frame do not
// agree (the caller drops and counts it).
bool ApplyFromKernel(const VnetHeader& h, rte_mbuf* m);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_VNET_HEADER_H_
