// The flow hash, shared by Parse() and the fast path (which computes it
// from a few header fields without a full parse): CRC32-C of the fields
// that usually tell flows apart, in two lanes because crc32 has a 3-cycle
// latency.  The hash needs entropy, not every field: the table compares
// whole keys (or templates).
#ifndef GROD_DATAPLANE_GRO_HASH_H_
#define GROD_DATAPLANE_GRO_HASH_H_

#include <nmmintrin.h>

#include <cstdint>

#include "dataplane/gro/bytes.h"

namespace grod::gro {

// CRC32-C of 8 bytes onto `crc`: the SSE4.2 instruction, always inline.
// (DPDK's Crc8Bytes() computes the same, but through a run-time
// choice of implementation that GCC stopped inlining into the grown
// ParseCommon(): a call per 8 bytes, 4 for an IPv6 flow.  The build
// requires SSE4.2 anyway: -march=corei7, see .bazelrc.)
inline uint32_t Crc8Bytes(uint64_t data, uint32_t crc) {
  return uint32_t(_mm_crc32_u64(crc, data));
}

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
    a = Crc8Bytes(LoadU64(src), uint32_t(a));
    b = Crc8Bytes(LoadU64(dst), uint32_t(b));
    a = Crc8Bytes(LoadU64(src + 8), uint32_t(a));
    b = Crc8Bytes(LoadU64(dst + 8), uint32_t(b));
  } else {
    a = Crc8Bytes(LoadU32(src) << 32 | LoadU32(dst), uint32_t(a));
  }
  b = Crc8Bytes(word, uint32_t(b));
  if (outer_src != nullptr) {
    a = Crc8Bytes(LoadU64(outer_src), uint32_t(a));
  }
  return uint32_t(a) ^ uint32_t(b) * 0x9e3779b1u;
}

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_HASH_H_
