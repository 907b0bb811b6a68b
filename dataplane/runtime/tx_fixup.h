// Repairs egress makes to a frame its TX port could not send as it is:
// checksums the port does not offload, IPv4 fragmentation for frames above
// the MTU, and the mbuf-count measure of a TSO packet.  Slow path only.
#ifndef GROD_DATAPLANE_RUNTIME_TX_FIXUP_H_
#define GROD_DATAPLANE_RUNTIME_TX_FIXUP_H_

#include <rte_mbuf.h>

#include <cstdint>

#include "common/dataplane_types.h"

namespace grod::dataplane {

// Bytes of the outermost Ethernet header with its VLAN tags (read from the
// frame, not from mbuf metadata); *ether_type gets the type after them.
uint32_t L2Length(const rte_mbuf* m, uint16_t* ether_type);

// Computes in software every checksum `m` requests through an offload flag
// the port does not honour, and clears those flags; a frame left with no
// offload request gets no TX flag at all.
// Offsets come from m's l2/l3/l4 (and outer) lengths, which the engine set
// from its own parse.  False if they do not fit the frame (nothing done).
bool CompleteChecksums(rte_mbuf* m, const PortCapabilities& caps);

// Gives a packet something upstream aggregated (RX_LRO with tso_segsz: a
// guest's TSO packet from vhost-user, a NIC's LRO) the TSO metadata egress
// cuts merged packets by, so it leaves as segments of at most `mtu`: TCP
// over IPv4 (not a fragment) or IPv6 (no extension header), lengths read
// from the frame.  Its segment size is kept, or lowered to what the MTU
// allows; the TCP checksum field gets the pseudo-header sum (the TSO
// contract).  False, nothing changed, for anything else.
bool TsoFromAggregated(rte_mbuf* m, uint32_t mtu);

// The most mbufs the NIC must gather for one segment of TSO packet `m`
// (its header plus every mbuf holding part of that segment's payload).
uint32_t MaxMbufsPerTsoSegment(const rte_mbuf* m, uint32_t header_bytes,
                               uint32_t mss);

// Fragments the IPv4 datagram in `m` so that every fragment's outermost IP
// packet is at most `mtu` bytes.  The IPv4 header fragmented is, with
// `vxlan_inner`, the inner one of a VXLAN frame whose mbuf outer/l2/l3
// lengths the engine set (the outer headers are copied to every fragment,
// their lengths, IDs and checksums rewritten, the outer UDP checksum
// computed over IPv6 and 0 over IPv4), else the outermost.  Fragments have
// complete checksums and no TX flags; headers in `direct`, payload referenced
// through `indirect`. Returns the fragment count (consuming m), or a negative
// errno with m untouched: -EMSGSIZE (DF set, not IPv4), -ENOMEM, -EINVAL.
int FragmentIpv4(rte_mbuf* m, bool vxlan_inner, uint32_t mtu,
                 rte_mempool* direct, rte_mempool* indirect, rte_mbuf** out,
                 uint16_t cap);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_TX_FIXUP_H_
