// Internet checksum helpers over (possibly chained) mbufs.
#ifndef GROD_DATAPLANE_GRO_CHECKSUM_H_
#define GROD_DATAPLANE_GRO_CHECKSUM_H_

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/gro/gro_engine.h"

namespace grod::gro {

// Unfolded pseudo-header sum for a TCP/UDP segment of `l4_len` bytes; `ip`
// points at the IPv4 or IPv6 header.  len_zero: TSO convention (length 0).
uint32_t PseudoHeaderSum(const uint8_t* ip, bool v6, uint8_t proto,
                         uint32_t l4_len);
// Folds a 32-bit one's-complement sum to 16 bits (not inverted).
inline uint16_t Fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}
// Recomputes the IPv4 header checksum in place.
void SetIpv4Checksum(uint8_t* ip);
// Computes the TCP/UDP checksum of [l4_off, l4_off + l4_len) of `m` and
// stores it (UDP: 0 becomes 0xffff).
void SetL4Checksum(rte_mbuf* m, uint32_t l3_off, bool v6, uint32_t l4_off,
                   uint32_t l4_len, uint8_t proto);
// True when every checksum in the packet (IPv4 headers, TCP, UDP unless 0)
// verifies.
bool ChecksumsOk(const rte_mbuf* m, const ParsedPacket& p);
// How many TCP/UDP checksums this thread verified in software (each one a
// read of the whole payload).  Diagnostic, for tests and benchmarks: LIST
// and BYPASS must never add to it.
uint64_t SoftwareL4Verifications();
// ChecksumsOk() for a plain (no VXLAN, not a fragment) TCP/UDP packet whose
// IP length field ends the packet, from its layout (the fast path knows it
// without a parse): the NIC's RX verdict when conclusive, else software.
bool PlainChecksumsOk(const rte_mbuf* m, uint32_t l3_off, bool v6,
                      uint32_t l4_off, uint8_t proto);

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_CHECKSUM_H_
