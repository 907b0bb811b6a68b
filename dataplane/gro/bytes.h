// Network-order field access and TCP flag bits for the engine's header
// code (internal).
#ifndef GROD_DATAPLANE_GRO_BYTES_H_
#define GROD_DATAPLANE_GRO_BYTES_H_

#include <rte_byteorder.h>

#include <cstdint>
#include <cstring>

namespace grod::gro {

// The bytes at p as they are (byte-order neutral: compare with RTE_BE16
// constants or other raw loads, or hash them).
inline uint16_t Load16(const uint8_t* p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}
inline uint64_t LoadU32(const uint8_t* p) {  // zero-extended
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
inline uint16_t Be16(const uint8_t* p) { return rte_be_to_cpu_16(Load16(p)); }
inline uint32_t Be32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return rte_be_to_cpu_32(v);
}
inline void Put16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

// TCP flags (the byte at offset 13 of the TCP header).
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04,
                         kTcpPsh = 0x08, kTcpUrg = 0x20, kTcpEce = 0x40,
                         kTcpCwr = 0x80;
// Flags that stop a segment from being merged (Linux GRO's flush flags).
inline constexpr uint8_t kTcpNoMerge =
    kTcpSyn | kTcpRst | kTcpUrg | kTcpEce | kTcpCwr;
// The flags of the 32-bit TCP flag/window word (at offset 12) that may
// differ between merged segments, as in Linux's tcp_gro_receive.
inline constexpr uint32_t kTcpWordMergeable =
    uint32_t(kTcpCwr | kTcpPsh | kTcpFin) << 16;

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_BYTES_H_
