// FindWholePorts against a brute-force reference: for seeded random
// selector sets, tenant modes and route hints, a port it marks whole
// (a slot, or kNoTenant) must send every possible packet of that port --
// any VLAN, any VNI or none -- to that slot (or to no tenant), and that
// tenant must bypass GRO whatever the destination.  Plus the cases that
// must be marked whole, so the fast path is actually taken.
#include <random>
#include <vector>

#include "dataplane/tenant/config_snapshot.h"
#include "dataplane/testing/selector_reference.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

// Only compared against null by FindWholePorts; never dereferenced.
const RouteTable* SomeRoutes() {
  static const char dummy = 0;
  return reinterpret_cast<const RouteTable*>(&dummy);
}

struct Selectors {
  testing::SelectorSlots selectors;
  int unmatched = Classifier::kNoTenant;
};

// The slot a packet goes to, the unmatched tenant's included.
int Reference(const Selectors& s, uint16_t port, uint16_t vlan, int64_t vni) {
  return testing::ReferenceSlot(s.selectors, port, vlan, vni, s.unmatched);
}

TEST(FindWholePortsTest, WholePortsAreRightForEveryPossiblePacket) {
  int whole = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    ConfigSnapshot snap;
    Selectors sels;
    const int selectors = pick(5);
    for (int i = 0; i < selectors; ++i) {
      TrafficSelector s;
      if (pick(4) != 0) s.port_id = pick(4);
      if (pick(4) == 0) s.vlan_id = 1 + pick(3);
      if (pick(5) == 0) s.vni = 1000 + pick(2);
      const uint16_t slot = pick(4);
      if (snap.classifier.Add(s, slot).ok())
        sels.selectors.push_back({s, slot});
    }
    if (pick(2)) sels.unmatched = snap.unmatched_slot = pick(4);
    for (int slot = 0; slot < 4; ++slot) {
      TenantRuntime& t = snap.tenants[slot];
      t.active = true;
      t.default_mode = pick(3) ? GroMode::kBypass : GroMode::kMerge;
      if (pick(4) == 0) t.routes = SomeRoutes();
    }
    FindWholePorts(&snap);
    for (uint16_t port = 0; port < 6; ++port) {
      const int route = snap.whole_port[port];
      if (route == ConfigSnapshot::kPerPacket) continue;
      ++whole;
      if (route >= 0) {
        EXPECT_EQ(snap.tenants[route].default_mode, GroMode::kBypass);
        EXPECT_EQ(snap.tenants[route].routes, nullptr);
      }
      for (uint16_t vlan = 0; vlan < 5; ++vlan) {
        for (int64_t vni :
             {int64_t{-1}, int64_t{1000}, int64_t{1001}, int64_t{1002}}) {
          ASSERT_EQ(Reference(sels, port, vlan, vni), route)
              << "seed " << seed << " port " << port << " vlan " << vlan
              << " vni " << vni;
        }
      }
    }
  }
  EXPECT_GT(whole, 300) << "the fast path must be found, not just avoided";
}

TEST(FindWholePortsTest, CasesThatGoWholeAndCasesThatDoNot) {
  ConfigSnapshot snap;
  EXPECT_EQ(snap.whole_port[0], ConfigSnapshot::kPerPacket) << "default";
  FindWholePorts(&snap);
  EXPECT_EQ(snap.whole_port[0], Classifier::kNoTenant) << "no tenant at all";

  ASSERT_TRUE(snap.classifier.Add({0, std::nullopt, std::nullopt}, 7).ok());
  ASSERT_TRUE(snap.classifier.Add({1, std::nullopt, std::nullopt}, 8).ok());
  ASSERT_TRUE(snap.classifier.Add({2, std::nullopt, std::nullopt}, 9).ok());
  ASSERT_TRUE(snap.classifier.Add({3, 100, std::nullopt}, 7).ok());
  snap.tenants[7].default_mode = GroMode::kBypass;
  snap.tenants[8].default_mode = GroMode::kBypass;
  snap.tenants[8].routes = SomeRoutes();
  snap.tenants[9].default_mode = GroMode::kList;
  snap.unmatched_slot = 7;
  FindWholePorts(&snap);
  EXPECT_EQ(snap.whole_port[0], 7) << "port-level BYPASS tenant";
  EXPECT_EQ(snap.whole_port[1], ConfigSnapshot::kPerPacket) << "route hints";
  EXPECT_EQ(snap.whole_port[2], ConfigSnapshot::kPerPacket) << "LIST";
  EXPECT_EQ(snap.whole_port[3], ConfigSnapshot::kPerPacket) << "VLAN selector";
  EXPECT_EQ(snap.whole_port[4], 7) << "unmatched BYPASS tenant";

  // A VNI selector for any port makes every port's headers matter.
  ASSERT_TRUE(snap.classifier.Add({std::nullopt, std::nullopt, 5000}, 9).ok());
  FindWholePorts(&snap);
  for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; ++port) {
    EXPECT_EQ(snap.whole_port[port], ConfigSnapshot::kPerPacket) << port;
  }
}

}  // namespace
}  // namespace grod::dataplane
