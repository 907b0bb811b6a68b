// The flow hash, shared by Parse() and the fast path (which computes it
// from a few header fields without a full parse): CRC32-C of the fields
// that usually tell flows apart, in two lanes because crc32 has a 3-cycle
// latency.  The hash needs entropy, not every field: the table compares
// whole keys (or templates).
#ifndef GROD_DATAPLANE_GRO_HASH_H_
#define GROD_DATAPLANE_GRO_HASH_H_

#include <rte_hash_crc.h>

#include <cstdint>

#include "dataplane/gro/bytes.h"

namespace grod::gro {

// The low 32 bits of the hashed word: VXLAN/type/ingress-port fields.
inline uint32_t FlowWordLow(uint32_t vni, uint32_t type, uint32_t outer_sport,
                            uint32_t port) {
  return vni ^ type ^ outer_sport << 8 ^ port << 16;
}

// src/dst: inner addresses (4 or 16 bytes); word: ports << 32 | low word;
// outer_src: VXLAN outer source address (first 8 bytes) or nullptr.
inline uint32_t FlowHash(const uint8_t* src, const uint8_t* dst, bool v6,
                         uint64_t word, const uint8_t* outer_src) {
  constexpr uint32_t kSeed = 0x9e3779b9;
  uint64_t a = kSeed, b = ~uint64_t(kSeed);
  if (v6) {
    a = rte_hash_crc_8byte(LoadU64(src), uint32_t(a));
    b = rte_hash_crc_8byte(LoadU64(dst), uint32_t(b));
    a = rte_hash_crc_8byte(LoadU64(src + 8), uint32_t(a));
    b = rte_hash_crc_8byte(LoadU64(dst + 8), uint32_t(b));
  } else {
    a = rte_hash_crc_8byte(LoadU32(src) << 32 | LoadU32(dst), uint32_t(a));
  }
  b = rte_hash_crc_8byte(word, uint32_t(b));
  if (outer_src != nullptr) {
    a = rte_hash_crc_8byte(LoadU64(outer_src), uint32_t(a));
  }
  return uint32_t(a) ^ uint32_t(b) * 0x9e3779b1u;
}

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_HASH_H_
