#include "dataplane/bench/route_hints.h"

#include <algorithm>
#include <random>
#include <set>

namespace grod::dataplane::bench {

IpPrefix V4(uint32_t addr, uint8_t len) {
  IpPrefix p;
  const uint32_t masked = len == 0 ? 0 : addr & (~0u << (32 - len));
  p.addr[0] = masked >> 24;
  p.addr[1] = masked >> 16;
  p.addr[2] = masked >> 8;
  p.addr[3] = masked;
  p.length = len;
  return p;
}

IpPrefix V6(const std::array<uint8_t, 16>& addr, uint8_t len) {
  IpPrefix p;
  p.is_v6 = true;
  p.length = len;
  for (int b = 0; b < 16; ++b) {
    const int keep = std::clamp(int(len) - b * 8, 0, 8);
    p.addr[b] = keep == 0 ? 0 : addr[b] & uint8_t(0xff << (8 - keep));
  }
  return p;
}

std::vector<RouteHint> V4Hints(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::set<IpPrefix> seen;
  std::vector<RouteHint> out;
  // 95% /16../24 (uniform), 5% /32 host routes.
  while (out.size() < n) {
    const uint8_t len = rng() % 20 == 0 ? 32 : 16 + rng() % 9;
    const IpPrefix p = V4(rng(), len);
    if (!seen.insert(p).second) continue;
    out.push_back({p, rng() % 2 ? GroMode::kList : GroMode::kBypass});
  }
  return out;
}

std::vector<RouteHint> V6Hints(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::set<IpPrefix> seen;
  std::vector<RouteHint> out;
  while (out.size() < n) {
    std::array<uint8_t, 16> a = {0x20, 0x01, 0x0d, 0xb8};
    const uint32_t r = rng();
    const uint32_t site = r % 4096;  // 2001:db8:0XXX::/48
    a[4] = site >> 8;
    a[5] = site;
    a[6] = rng() % 8;  // subnets densely numbered
    a[7] = rng();
    for (int b = 8; b < 16; ++b) a[b] = rng();
    const uint32_t k = rng() % 20;
    const uint8_t len = k == 0 ? 128 : (k < 4 ? 48 : (k < 10 ? 56 : 64));
    const IpPrefix p = V6(a, len);
    if (!seen.insert(p).second) continue;
    out.push_back({p, rng() % 2 ? GroMode::kList : GroMode::kBypass});
  }
  return out;
}

std::vector<RouteHint> V6DenseHints(uint32_t n) {
  std::vector<RouteHint> out;
  for (uint32_t i = 0; i < n; ++i) {
    std::array<uint8_t, 16> a = {0x20, 0x01, 0x0d, 0xb8};
    a[4] = i >> 24;
    a[5] = i >> 16;
    a[6] = i >> 8;
    a[7] = i;
    out.push_back({V6(a, 64), i % 2 ? GroMode::kList : GroMode::kBypass});
  }
  return out;
}

}  // namespace grod::dataplane::bench
