// What the guest behind each vhost-user port negotiated that egress can use
// (virtio-net GUEST_TSO4/6, GUEST_CSUM, MRG_RXBUF): the vhost PMD reports no
// TSO, so a merged packet goes to a guest as one TSO packet only on what
// the guest itself accepted.  Written by the vhost library's event thread
// when a guest attaches or leaves (guest_watch.h), read by each worker once
// per loop iteration (Egress::FlushAll), never per packet.  A replaced
// guest cannot get TSO it did not negotiate: the vhost PMD raises LSC (bits
// 0) when a guest leaves, long before a new one has negotiated (vhost-user
// messages take milliseconds, a worker iteration microseconds); until the
// new guest's LSC it gets segments.
#ifndef GROD_DATAPLANE_RUNTIME_GUEST_OFFLOADS_H_
#define GROD_DATAPLANE_RUNTIME_GUEST_OFFLOADS_H_

#include <rte_config.h>

#include <atomic>
#include <cstdint>

namespace grod::dataplane {

// Bits of a GuestState.
enum GuestOffload : uint8_t {
  kGuestTso4 = 1 << 0,
  kGuestTso6 = 1 << 1,
  kGuestCsum = 1 << 2,      // partial checksums (required by TSO)
  kGuestMrgRxbuf = 1 << 3,  // a packet may span several guest buffers
};

// A guest's receive buffers are at least this large (Linux virtio-net's
// mergeable buffers: GOOD_PACKET_LEN; DPDK's: an mbuf's data room).
inline constexpr uint32_t kMinGuestRxBuffer = 1518;

// One word per port, so a worker never pairs one guest's features with
// another's ring: GuestOffload bits in the low byte, above them the
// largest packet the guest is handed whole (bytes).
inline constexpr uint32_t GuestState(uint8_t bits, uint32_t max_bytes) {
  return bits | (max_bytes < (1u << 24) ? max_bytes : (1u << 24) - 1) << 8;
}
inline constexpr uint8_t GuestBits(uint32_t state) { return state & 0xff; }
inline constexpr uint32_t GuestMaxBytes(uint32_t state) { return state >> 8; }

struct GuestOffloadTable {
  // 0 while no guest is attached (or the port is not vhost-user).
  std::atomic<uint32_t> state[RTE_MAX_ETHPORTS] = {};
  // The vhost-user ports, the only ones whose state can change; fixed
  // before the workers start.
  uint16_t ports[RTE_MAX_ETHPORTS] = {};
  uint16_t count = 0;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_GUEST_OFFLOADS_H_
