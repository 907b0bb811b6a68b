// TenantManager without workers: what it publishes. Which tenants a change
// stamps for a flush (TenantRuntime::reclassified_epoch), and the flush
// timeouts in TSC cycles.
#include "dataplane/control/tenant_manager.h"

#include <rte_cycles.h>
#include <rte_malloc.h>

#include <map>
#include <set>

#include "dataplane/testing/ring_port.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

TrafficSelector Sel(std::optional<uint16_t> port, std::optional<uint16_t> vlan,
                    std::optional<uint32_t> vni = std::nullopt) {
  return {port, vlan, vni};
}

class TenantManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::InitTestEal();
    qsbr_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("tm_test_qsbr", rte_rcu_qsbr_get_memsize(1), 64));
    ASSERT_NE(qsbr_, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(qsbr_, 1), 0);
    mgr_ = std::make_unique<TenantManager>(qsbr_, 4789, true);
  }
  void TearDown() override {
    mgr_.reset();
    rte_free(qsbr_);
  }

  const ConfigSnapshot& Snap() const { return *mgr_->snapshot()->load(); }

  void Upsert(const std::string& name, std::vector<TrafficSelector> sels) {
    TenantSpec t;
    t.name = name;
    t.selectors = std::move(sels);
    ASSERT_TRUE(mgr_->Upsert(t).ok()) << name;
  }

  // Tenants a change stamped: run it, return who got the new epoch.
  template <typename F>
  std::set<std::string> Stamped(F change) {
    std::map<std::string, uint64_t> before;
    const std::map<std::string, int> slots = Slots();
    for (const auto& [name, slot] : slots) {
      before[name] = Snap().tenants[slot].reclassified_epoch;
    }
    change();
    std::set<std::string> out;
    for (const auto& [name, slot] : slots) {
      if (Snap().tenants[slot].reclassified_epoch != before[name]) {
        out.insert(name);
      }
    }
    return out;
  }

  // Tenant -> slot: slots are given in creation order from 0 (the first
  // free one), which these tests rely on.
  std::map<std::string, int> Slots() const {
    std::map<std::string, int> m;
    int i = 0;
    for (const std::string& n : order_) m[n] = i++;
    return m;
  }

  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<TenantManager> mgr_;
  std::vector<std::string> order_;
};

TEST_F(TenantManagerTest, TimeoutsDoNotOverflowInTscCycles) {
  TenantSpec t;
  t.name = "slow";
  t.selectors = {Sel(0, std::nullopt)};
  t.flush.kind = FlushKind::kTimeout;
  t.flush.timeout_ns = 10'000'000'000;  // the API's maximum, 10 s
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  const uint64_t hz = rte_get_tsc_hz();
  EXPECT_EQ(Snap().tenants[0].timeout_tsc, 10 * hz);
  t.flush.timeout_ns = 1500;  // 1.5 us
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  EXPECT_EQ(Snap().tenants[0].timeout_tsc, hz * 1500 / 1'000'000'000);
}

TEST_F(TenantManagerTest, SelectorChangesStampOnlyTenantsThatMayLoseTraffic) {
  using S = std::set<std::string>;
  order_ = {"wide", "v10", "v20", "vxlan", "fallback"};
  Upsert("wide", {Sel(0, std::nullopt)});  // every VLAN on port 0
  Upsert("v10", {Sel(0, 10)});
  Upsert("v20", {Sel(std::nullopt, 20)});  // VLAN 20 on any port
  Upsert("vxlan", {Sel(std::nullopt, std::nullopt, 5000)});
  Upsert("fallback", {});
  ASSERT_TRUE(mgr_->SetUnmatched("fallback").ok());

  // v10 moves to VLAN 11: it loses VLAN 10 (to wide), wide loses VLAN 11,
  // and VNI 5000 tunnels on VLANs 10/11 of port 0 may have been vxlan's.
  EXPECT_EQ(Stamped([&] { Upsert("v10", {Sel(0, 11)}); }),
            (S{"v10", "wide", "vxlan"}));
  // VLAN 30 on port 1: only the unmatched tenant held that (no selector
  // of port 1 covers it), and vxlan's tunnels there; not wide (port 0).
  EXPECT_EQ(Stamped([&] {
              Upsert("v10", {Sel(0, 11), Sel(1, 30)});
            }),
            (S{"vxlan", "fallback"}));
  // Covered by "wide" (port 0, any VLAN): the unmatched tenant held none.
  EXPECT_EQ(Stamped([&] {
              Upsert("v10", {Sel(0, 11), Sel(1, 30), Sel(0, 40)});
            }),
            (S{"wide", "vxlan"}));
  // Policy and quota changes move nothing.
  EXPECT_EQ(Stamped([&] {
              TenantSpec t;
              t.name = "v20";
              t.selectors = {Sel(std::nullopt, 20)};
              t.flush.kind = FlushKind::kAdaptive;
              t.max_flows = 100;
              ASSERT_TRUE(mgr_->Upsert(t).ok());
            }),
            S{});
  // The unmatched tenant changes: only the old one loses traffic.
  EXPECT_EQ(Stamped([&] { ASSERT_TRUE(mgr_->SetUnmatched("").ok()); }),
            S{"fallback"});
  EXPECT_EQ(Stamped([&] { ASSERT_TRUE(mgr_->SetUnmatched("v20").ok()); }), S{});
  // Removing v20: itself, and the tenants its traffic may have overlapped
  // (wide on port 0 VLAN 20, vxlan's tunnels on VLAN 20).
  EXPECT_EQ(Stamped([&] { ASSERT_TRUE(mgr_->Remove("v20").ok()); }),
            (S{"v20", "wide", "vxlan"}));
}

}  // namespace
}  // namespace grod::dataplane
