// Internet checksum arithmetic (RFC 1071) for test code that builds frames
// or checks them independently of the code under test: one copy for every
// test builder and reader, and none of it shared with production code
// (which uses DPDK's), so a production checksum bug cannot hide itself.
#ifndef GROD_COMMON_TESTING_INET_CHECKSUM_H_
#define GROD_COMMON_TESTING_INET_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

namespace grod::testing {

// `sum` plus the big-endian 16-bit words of p[0, n), an odd last byte
// padded with zero; not folded.
inline uint64_t OnesSum(const uint8_t* p, size_t n, uint64_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1]) << 8;
  return sum;
}

// `sum` folded to 16 bits with end-around carry (not inverted): 0xffff for
// data that includes a correct checksum.
inline uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

// The value for a checksum field over data summing to `sum` (field zero).
inline uint16_t Checksum(uint64_t sum) { return uint16_t(~Fold(sum)); }

}  // namespace grod::testing

#endif  // GROD_COMMON_TESTING_INET_CHECKSUM_H_
