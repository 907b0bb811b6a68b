// The state file: restart keeps every acknowledged change (also after
// kill -9), config and state combine as documented, corrupt files are
// reported or moved aside.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/testing/fake_dataplane.h"
#include "controlplane/controller.h"
#include "controlplane/prefix.h"
#include "controlplane/test_server.h"
#include "gtest/gtest.h"

namespace grod::controlplane {
namespace {

const absl::Time kLater = absl::InfiniteFuture();

class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        std::getenv("TEST_TMPDIR"), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = dir_ + "/state";
  }
  std::unique_ptr<Controller> Open(testing::FakeDataPlane* dp,
                                   const v1::GrodConfig& config = {},
                                   bool discard = false) {
    auto ctl = std::make_unique<Controller>(dp, file_, discard);
    absl::Status s = ctl->Bootstrap(config);
    EXPECT_TRUE(s.ok()) << s;
    return ctl;
  }
  std::string dir_, file_;
};

v1::AddRouteHintsRequest Hint(const std::string& tenant,
                              const std::string& prefix) {
  v1::AddRouteHintsRequest req;
  req.set_tenant(tenant);
  req.add_hints()->set_prefix(prefix);
  req.mutable_hints(0)->set_mode(v1::GRO_MODE_BYPASS);
  return req;
}

TEST_F(PersistenceTest, RestartRestoresEverything) {
  v1::Tenant created;
  {
    testing::FakeDataPlane dp;
    auto ctl = Open(&dp);
    v1::Tenant t = MakeTenant("acme");
    t.mutable_flush_policy()->set_kind(v1::FLUSH_KIND_ADAPTIVE);
    t.mutable_flush_policy()->mutable_timeout()->set_nanos(20000);
    created = *ctl->CreateTenant(t, kLater);
    ASSERT_TRUE(ctl->CreateTenant(MakeTenant("beta", 11), kLater).ok());
    ASSERT_TRUE(ctl->AddRouteHints(Hint("acme", "10.0.0.0/8"), kLater).ok());
    ASSERT_TRUE(ctl->DeleteTenant("beta", kLater).ok());
    EXPECT_EQ(ctl->generation(), 4u);
    // No clean shutdown: the controller is simply dropped.
  }
  testing::FakeDataPlane dp;
  auto ctl = Open(&dp);
  EXPECT_EQ(ctl->generation(), 4u);
  ASSERT_TRUE(ctl->HasTenant("acme"));
  EXPECT_FALSE(ctl->HasTenant("beta"));
  EXPECT_EQ(ctl->GetTenant("acme")->create_time().seconds(),
            created.create_time().seconds());
  EXPECT_EQ(dp.tenant("acme")->flush.kind, FlushKind::kAdaptive);
  EXPECT_EQ(dp.tenant("acme")->flush.timeout_ns, 20000u);
  EXPECT_EQ(dp.hints("acme").at(*ParseIpPrefix("10.0.0.0/8")),
            GroMode::kBypass);
}

TEST_F(PersistenceTest, StateWinsOverConfig) {
  v1::GrodConfig config;
  *config.add_tenants() = MakeTenant("from-config", 20);
  *config.add_tenants() = MakeTenant("doomed", 21);
  config.set_unmatched_tenant("from-config");
  {
    testing::FakeDataPlane dp;
    auto ctl = Open(&dp, config);
    EXPECT_EQ(dp.unmatched_tenant(), "from-config");
    v1::UpdateTenantRequest u;
    u.mutable_tenant()->set_name("from-config");
    u.mutable_tenant()->mutable_quotas()->set_max_flows(9);
    u.mutable_update_mask()->add_paths("quotas.max_flows");
    ASSERT_TRUE(ctl->UpdateTenant(u, kLater).ok());
    ASSERT_TRUE(ctl->DeleteTenant("doomed", kLater).ok());
  }
  *config.add_tenants() = MakeTenant("new-in-config", 22);
  testing::FakeDataPlane dp;
  auto ctl = Open(&dp, config);
  EXPECT_EQ(dp.tenant("from-config")->max_flows, 9u) << "state wins";
  EXPECT_FALSE(dp.tenant("doomed").has_value()) << "API delete sticks";
  EXPECT_TRUE(dp.tenant("new-in-config").has_value());
  EXPECT_EQ(dp.unmatched_tenant(), "from-config");
  // Re-creating a deleted tenant through the API un-deletes it.
  ASSERT_TRUE(ctl->CreateTenant(MakeTenant("doomed", 21), kLater).ok());
  ctl.reset();
  testing::FakeDataPlane dp2;
  Open(&dp2, config);
  EXPECT_TRUE(dp2.tenant("doomed").has_value());
}

TEST_F(PersistenceTest, BadConfigIsReportedWithField) {
  v1::GrodConfig config;
  *config.add_tenants() = MakeTenant("a", 20);
  *config.add_tenants() = MakeTenant("b", 20);
  testing::FakeDataPlane dp;
  Controller ctl(&dp, file_, false);
  absl::Status s = ctl.Bootstrap(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("config: tenants[1].selectors[0]"),
            std::string::npos)
      << s;
}

TEST_F(PersistenceTest, CorruptFileFailsWithAdvice) {
  {
    std::ofstream out(file_);
    out << "this is not a state file";
  }
  testing::FakeDataPlane dp;
  Controller ctl(&dp, file_, false);
  absl::Status s = ctl.Bootstrap({});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(file_), std::string::npos) << s;
  EXPECT_NE(s.message().find("--discard_corrupt_state"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(file_)) << "left for the operator";
}

TEST_F(PersistenceTest, TruncatedFileIsCorrupt) {
  {
    testing::FakeDataPlane dp;
    auto ctl = Open(&dp);
    ASSERT_TRUE(ctl->CreateTenant(MakeTenant("acme"), kLater).ok());
  }
  std::filesystem::resize_file(file_, std::filesystem::file_size(file_) - 2);
  testing::FakeDataPlane dp;
  Controller ctl(&dp, file_, false);
  EXPECT_EQ(ctl.Bootstrap({}).code(), absl::StatusCode::kDataLoss);
}

TEST_F(PersistenceTest, DiscardMovesCorruptFileAside) {
  {
    std::ofstream out(file_);
    out << "garbage";
  }
  v1::GrodConfig config;
  *config.add_tenants() = MakeTenant("from-config");
  testing::FakeDataPlane dp;
  auto ctl = Open(&dp, config, /*discard=*/true);
  EXPECT_TRUE(dp.tenant("from-config").has_value());
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    if (e.path().filename().string().rfind("state.corrupt-", 0) == 0) ++aside;
  }
  EXPECT_EQ(aside, 1);
  // The fresh state was saved and is readable.
  ctl.reset();
  testing::FakeDataPlane dp2;
  Open(&dp2);
  EXPECT_TRUE(dp2.tenant("from-config").has_value());
}

// Runs state_writer, kill -9s it after `acks` acknowledgements, and checks
// that every acknowledged hint survived.
void KillAndCheck(const std::string& file, int acks) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl("controlplane/state_writer", "state_writer", file.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  FILE* in = fdopen(out[0], "r");
  int last = -1;
  char line[64];
  while (last + 1 < acks && std::fgets(line, sizeof(line), in) != nullptr) {
    std::sscanf(line, "ack %d", &last);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // Lines already in the pipe were acknowledged too.
  while (std::fgets(line, sizeof(line), in) != nullptr) {
    std::sscanf(line, "ack %d", &last);
  }
  std::fclose(in);
  ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early: " << status;
  ASSERT_GE(last, 0);

  testing::FakeDataPlane dp;
  Controller ctl(&dp, file, false);
  ASSERT_TRUE(ctl.Bootstrap({}).ok());
  const auto hints = dp.hints("t");
  for (int i = 0; i <= last; ++i) {
    const std::string p =
        absl::StrCat("10.", (i >> 8) & 255, ".", i & 255, ".0/24");
    ASSERT_TRUE(hints.contains(*ParseIpPrefix(p))) << "lost ack " << i;
  }
}

TEST_F(PersistenceTest, KillNineLosesNoAcknowledgedChange) {
  KillAndCheck(file_, 30);
  KillAndCheck(file_, 7);  // resumes from the saved state, kills again
  KillAndCheck(file_, 55);
}

}  // namespace
}  // namespace grod::controlplane
