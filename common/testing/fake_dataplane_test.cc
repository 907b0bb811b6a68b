#include "common/testing/fake_dataplane.h"

#include "gtest/gtest.h"

namespace grod::testing {
namespace {

IpPrefix V4(uint8_t a, uint8_t len) {
  IpPrefix p;
  p.addr[0] = a;
  p.length = len;
  return p;
}

TEST(FakeDataPlaneTest, TenantsAndHints) {
  FakeDataPlane dp;
  EXPECT_TRUE(dp.Ready());
  ASSERT_EQ(dp.Ports().size(), 2u);
  TenantSpec t{.name = "a"};
  ASSERT_TRUE(dp.UpsertTenant(t).ok());
  ASSERT_TRUE(dp.AddRouteHints("a", {{V4(10, 8), GroMode::kList}}).ok());
  EXPECT_EQ(dp.hints("a").at(V4(10, 8)), GroMode::kList);
  t.max_flows = 7;
  ASSERT_TRUE(dp.UpsertTenant(t).ok());
  EXPECT_EQ(dp.hints("a").size(), 1u) << "replace keeps hints";
  EXPECT_EQ(dp.tenant("a")->max_flows, 7u);
  ASSERT_TRUE(dp.SetUnmatchedTenant("a").ok());
  EXPECT_EQ(dp.Stats().tenants.size(), 1u);
  ASSERT_TRUE(dp.RemoveRouteHints("a", {V4(10, 8)}).ok());
  EXPECT_TRUE(dp.hints("a").empty());
  ASSERT_TRUE(dp.RemoveTenant("a").ok());
  EXPECT_TRUE(dp.tenants().empty());
  EXPECT_EQ(dp.unmatched_tenant(), "");
  EXPECT_EQ(dp.RemoveTenant("a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(dp.mutation_count(), 6);
}

TEST(FakeDataPlaneTest, InjectedFailureChangesNothing) {
  FakeDataPlane dp;
  dp.FailNextMutation(absl::InternalError("boom"), "AddRouteHints");
  ASSERT_TRUE(dp.UpsertTenant({.name = "a"}).ok()) << "other method unaffected";
  EXPECT_EQ(dp.AddRouteHints("a", {{V4(10, 8), GroMode::kList}}).code(),
            absl::StatusCode::kInternal);
  EXPECT_TRUE(dp.hints("a").empty());
  EXPECT_TRUE(dp.AddRouteHints("a", {{V4(10, 8), GroMode::kList}}).ok())
      << "one-shot";
  dp.FailAllMutations(absl::UnavailableError("down"));
  EXPECT_FALSE(dp.RemoveTenant("a").ok());
  EXPECT_FALSE(dp.RemoveTenant("a").ok());
  EXPECT_EQ(dp.tenants().size(), 1u);
  dp.FailAllMutations(absl::OkStatus());
  EXPECT_TRUE(dp.RemoveTenant("a").ok());
  EXPECT_EQ(dp.calls().back(), "RemoveTenant(a)");
}

}  // namespace
}  // namespace grod::testing
