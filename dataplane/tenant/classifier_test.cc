// Classifier against a brute-force reference: for a seeded random set of
// selectors and packets, the slot it returns is the one of the most specific
// matching selector (port, then VLAN, then VNI), or kNoTenant.
#include "dataplane/tenant/classifier.h"

#include "dataplane/testing/selector_reference.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

TEST(ClassifierTest, MostSpecificSelectorWinsAgainstBruteForce) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    Classifier c;
    testing::SelectorSlots taken;
    for (int i = 0; i < 40; ++i) {
      TrafficSelector s;
      if (pick(2)) s.port_id = pick(3);
      if (pick(2)) s.vlan_id = pick(4);
      if (pick(3) == 0) s.vni = 1000 + pick(3);
      const uint16_t slot = pick(256);
      bool duplicate = false;
      for (const auto& [t, sl] : taken) duplicate |= t == s;
      absl::Status st = c.Add(s, slot);
      if (duplicate) {
        EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
        continue;
      }
      ASSERT_TRUE(st.ok()) << st;
      taken.push_back({s, slot});
    }
    for (int i = 0; i < 500; ++i) {
      const uint16_t port = pick(4), vlan = pick(5);
      const int64_t vni = pick(2) ? -1 : 1000 + pick(4);
      const int want =
          testing::ReferenceSlot(taken, port, vlan, vni, Classifier::kNoTenant);
      ASSERT_EQ(c.Match(port, vlan, vni), want)
          << "seed " << seed << " port " << port << " vlan " << vlan << " vni "
          << vni;
    }
  }
}

TEST(ClassifierTest, EmptyMatchesNothing) {
  Classifier c;
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.Match(0, 0, -1), Classifier::kNoTenant);
  ASSERT_TRUE(c.Add({std::nullopt, std::nullopt, std::nullopt}, 7).ok());
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(c.Match(3, 100, 5000), 7);  // the catch-all
}

}  // namespace
}  // namespace grod::dataplane
