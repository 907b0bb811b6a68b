// RouteTable against a brute-force longest-prefix match: seeded random IPv4
// and IPv6 hints, built at once and then changed incrementally; every
// lookup returns the mode of the longest covering prefix, or kNoHint.
#include "dataplane/tenant/route_table.h"

#include <random>
#include <vector>

#include "dataplane/testing/ring_port.h"  // InitTestEal
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

bool Covers(const IpPrefix& p, const uint8_t* addr) {
  for (int bit = 0; bit < p.length; ++bit) {
    const uint8_t mask = 0x80 >> (bit % 8);
    if ((p.addr[bit / 8] & mask) != (addr[bit / 8] & mask)) return false;
  }
  return true;
}

uint8_t Reference(const HintMap& hints, bool v6, const uint8_t* addr) {
  int best = -1;
  uint8_t mode = RouteTable::kNoHint;
  for (const auto& [p, m] : hints) {
    if (p.is_v6 == v6 && Covers(p, addr) && p.length > best) {
      best = p.length;
      mode = static_cast<uint8_t>(m);
    }
  }
  return mode;
}

IpPrefix RandomPrefix(std::mt19937& rng, bool v6) {
  IpPrefix p;
  p.is_v6 = v6;
  const int bytes = v6 ? 16 : 4;
  // Few distinct leading bytes, so prefixes nest and overlap.
  p.addr[0] = 10 + rng() % 2;
  for (int i = 1; i < bytes; ++i) p.addr[i] = rng() % 4;
  p.length = rng() % (bytes * 8 + 1);
  for (int bit = p.length; bit < bytes * 8; ++bit) {
    p.addr[bit / 8] &= ~(0x80 >> (bit % 8));  // host bits zero
  }
  return p;
}

void ExpectLookups(const RouteTable& t, const HintMap& hints, std::mt19937& rng,
                   uint32_t seed) {
  for (int i = 0; i < 400; ++i) {
    const bool v6 = rng() % 2;
    uint8_t addr[16] = {};
    addr[0] = 10 + rng() % 3;
    for (int b = 1; b < 16; ++b) addr[b] = rng() % 4;
    const uint8_t got = v6 ? t.Lookup6(addr) : t.Lookup4(addr);
    ASSERT_EQ(got, Reference(hints, v6, addr))
        << "seed " << seed << (v6 ? " v6 " : " v4 ") << int(addr[0]) << "."
        << int(addr[1]) << "." << int(addr[2]) << "." << int(addr[3]);
  }
}

TEST(RouteTableTest, LongestPrefixWinsAgainstBruteForce) {
  testing::InitTestEal();
  const GroMode modes[] = {GroMode::kMerge, GroMode::kList, GroMode::kBypass};
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::mt19937 rng(seed);
    HintMap hints;
    for (int i = 0; i < 60; ++i) {
      hints[RandomPrefix(rng, rng() % 2)] = modes[rng() % 3];
    }
    RouteTable t("rt_test_" + std::to_string(seed));
    ASSERT_TRUE(t.Build(hints).ok());
    ExpectLookups(t, hints, rng, seed);

    // Incremental: remove some, add others (room permitting).
    std::vector<IpPrefix> keys;
    for (const auto& [p, m] : hints) keys.push_back(p);
    for (size_t i = 0; i < keys.size(); i += 3) {
      ASSERT_TRUE(t.Remove(keys[i]).ok());
      hints.erase(keys[i]);
    }
    for (int i = 0; i < 10; ++i) {
      RouteHint h{RandomPrefix(rng, rng() % 2), modes[rng() % 3]};
      size_t v4 = 0, v6 = 0;
      for (const auto& [p, m] : hints) (p.is_v6 ? v6 : v4)++;
      (h.prefix.is_v6 ? v6 : v4) += hints.count(h.prefix) ? 0 : 1;
      if (!t.Fits(v4, v6)) continue;
      ASSERT_TRUE(t.Add(h).ok());
      hints[h.prefix] = h.mode;
    }
    ExpectLookups(t, hints, rng, seed);
  }
}

TEST(RouteTableTest, NoHintsMatchNothing) {
  testing::InitTestEal();
  RouteTable t("rt_test_empty");
  ASSERT_TRUE(t.Build({}).ok());
  const uint8_t addr[16] = {10, 0, 0, 1};
  EXPECT_EQ(t.Lookup4(addr), RouteTable::kNoHint);
  EXPECT_EQ(t.Lookup6(addr), RouteTable::kNoHint);
}

}  // namespace
}  // namespace grod::dataplane
