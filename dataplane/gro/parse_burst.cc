// The parser's entry points: Parse() tries the common case
// (parse_common.cc) and falls back to the general parser (parse.cc);
// ParseBurst() prefetches ahead of it.
#include <immintrin.h>
#include <rte_prefetch.h>

#include <cstddef>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/parse_common.h"

namespace grod::gro {

bool Parse(const rte_mbuf* m, const ParseConfig& cfg, ParsedPacket* out) {
  // Explicit 16-byte stores: memset of this size compiled to `rep stos`,
  // which alone cost ~20 cycles per packet.
  static_assert(sizeof(ParsedPacket) % 16 == 0 && alignof(ParsedPacket) == 16);
  __m128i* z = reinterpret_cast<__m128i*>(out);
  for (size_t i = 0; i < sizeof(ParsedPacket) / 16; ++i) {
    _mm_store_si128(z + i, _mm_setzero_si128());
  }
  if (!internal::ParseCommon(m, cfg, out)) internal::ParseGeneral(m, cfg, out);
  return true;
}

void ParseBurst(rte_mbuf* const* pkts, uint16_t n, const ParseConfig& cfg,
                ParsedPacket* out) {
  // Packets are often cold here.  The mbuf's first line (buf_addr,
  // data_off, lengths) is needed to find the data, so all of those are
  // fetched first, then each packet's first header line a few packets
  // ahead: memory latency is longer than parsing one packet.
  constexpr uint16_t kAhead = 4;
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(pkts[i]);
  for (uint16_t i = 0; i < n && i < kAhead; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], char*) + RTE_CACHE_LINE_SIZE / 2);
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kAhead], char*) +
                    RTE_CACHE_LINE_SIZE / 2);
    }
    Parse(pkts[i], cfg, &out[i]);
  }
}

}  // namespace grod::gro
