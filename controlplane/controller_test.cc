// Controller paths that are awkward to reach over gRPC: an already expired
// deadline, and a state file that cannot be written (the change must be
// rolled back in memory and in the data plane).
#include "controlplane/controller.h"

#include <sys/stat.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/testing/fake_dataplane.h"
#include "controlplane/test_server.h"
#include "gtest/gtest.h"

namespace grod::controlplane {
namespace {

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = absl::StrCat(
        std::getenv("TEST_TMPDIR"), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        ".state");
    std::remove(file_.c_str());
    rmdir((file_ + ".tmp").c_str());
    ctl_ = std::make_unique<Controller>(&dp_, file_, false);
    ASSERT_TRUE(ctl_->Bootstrap({}).ok());
  }
  // Makes every later save fail: the temp file's name is taken by a dir.
  void BreakStateFile() { ASSERT_EQ(mkdir((file_ + ".tmp").c_str(), 0700), 0); }
  void TearDown() override { rmdir((file_ + ".tmp").c_str()); }

  const absl::Time kLater = absl::Now() + absl::Hours(1);
  std::string file_;
  testing::FakeDataPlane dp_;
  std::unique_ptr<Controller> ctl_;
};

TEST_F(ControllerTest, ExpiredDeadlineAppliesNothing) {
  auto r =
      ctl_->CreateTenant(MakeTenant("acme"), absl::Now() - absl::Seconds(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(dp_.tenants().empty());
  EXPECT_EQ(ctl_->generation(), 0u);
}

TEST_F(ControllerTest, SaveFailureRollsBackCreate) {
  BreakStateFile();
  auto r = ctl_->CreateTenant(MakeTenant("acme"), kLater);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  EXPECT_NE(r.status().message().find(file_), std::string::npos);
  EXPECT_TRUE(dp_.tenants().empty()) << "data plane rolled back";
  EXPECT_FALSE(ctl_->HasTenant("acme"));
  EXPECT_EQ(ctl_->generation(), 0u);
}

TEST_F(ControllerTest, SaveFailureRollsBackEveryMutation) {
  ASSERT_TRUE(ctl_->CreateTenant(MakeTenant("acme"), kLater).ok());
  v1::AddRouteHintsRequest add;
  add.set_tenant("acme");
  add.add_hints()->set_prefix("10.0.0.0/8");
  add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
  ASSERT_TRUE(ctl_->AddRouteHints(add, kLater).ok());
  const auto tenants = dp_.tenants();
  const auto hints = dp_.hints("acme");
  const uint64_t gen = ctl_->generation();
  BreakStateFile();

  v1::UpdateTenantRequest update;
  update.mutable_tenant()->set_name("acme");
  update.mutable_tenant()->mutable_quotas()->set_max_flows(5);
  update.mutable_update_mask()->add_paths("quotas.max_flows");
  EXPECT_FALSE(ctl_->UpdateTenant(update, kLater).ok());
  add.mutable_hints(0)->set_mode(v1::GRO_MODE_BYPASS);
  add.add_hints()->set_prefix("11.0.0.0/8");
  add.mutable_hints(1)->set_mode(v1::GRO_MODE_LIST);
  EXPECT_FALSE(ctl_->AddRouteHints(add, kLater).ok());
  v1::RemoveRouteHintsRequest rm;
  rm.set_tenant("acme");
  rm.add_prefixes("10.0.0.0/8");
  EXPECT_FALSE(ctl_->RemoveRouteHints(rm, kLater).ok());
  EXPECT_FALSE(ctl_->DeleteTenant("acme", kLater).ok());

  EXPECT_EQ(dp_.tenants(), tenants);
  EXPECT_EQ(dp_.hints("acme"), hints);
  EXPECT_EQ(ctl_->generation(), gen);
  EXPECT_EQ(ctl_->GetTenant("acme")->quotas().max_flows(), 4096u);
  EXPECT_EQ(ctl_->GetTenant("acme")->route_hint_count(), 1u);
}

}  // namespace
}  // namespace grod::controlplane
