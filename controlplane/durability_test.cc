// The state file's commit point: whichever step of a save fails (injected),
// the file holds the previous state afterwards, so a call whose client
// hears failure changed nothing on disk either. And its format: text under
// a text name, binary otherwise, both read back whatever the name.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/fake_dataplane.h"
#include "controlplane/controller.h"
#include "controlplane/service_test_util.h"
#include "controlplane/state_file.h"
#include "google/protobuf/util/message_differencer.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

std::string failing_step;  // the step the hook fails ("" = none)

absl::Status FailStep(absl::string_view step) {
  if (step == failing_step) {
    return absl::InternalError(absl::StrCat("injected ", step, " failure"));
  }
  return absl::OkStatus();
}

class FaultInjection {
 public:
  explicit FaultInjection(std::string step) {
    failing_step = std::move(step);
    SetFaultHookForTest(&FailStep);
  }
  ~FaultInjection() {
    SetFaultHookForTest(nullptr);
    failing_step.clear();
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

PersistedState StateWith(uint64_t generation) {
  PersistedState s;
  s.set_magic("grod-state");
  s.set_format_version(1);
  s.set_config_generation(generation);
  s.add_tenants()->set_name(absl::StrCat("t", generation));
  s.set_complete(true);
  return s;
}

std::string Dir() {
  const std::string d = absl::StrCat(
      std::getenv("TEST_TMPDIR"), "/",
      ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(StateFileTest, EveryFailedStepLeavesThePreviousFile) {
  const std::string dir = Dir();
  const std::string path = dir + "/state.binpb";
  ASSERT_TRUE(SaveState(path, StateWith(1)).ok());
  const std::string before = Slurp(path);
  for (const char* step : {"write", "fsync", "link", "rename", "fsync_dir"}) {
    SCOPED_TRACE(step);
    {
      FaultInjection fault(step);
      absl::Status s = SaveState(path, StateWith(2));
      EXPECT_FALSE(s.ok());
      EXPECT_TRUE(absl::StrContains(s.message(), step)) << s;
    }
    EXPECT_EQ(Slurp(path), before) << "a failed save changed the file";
    // Nothing left behind but the file itself.
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      names.push_back(e.path().filename());
    }
    EXPECT_EQ(names, std::vector<std::string>{"state.binpb"});
  }
  ASSERT_TRUE(SaveState(path, StateWith(3)).ok());
  EXPECT_EQ(LoadState(path)->value().config_generation(), 3u);
}

TEST(StateFileTest, FailedFirstSaveLeavesNoFile) {
  const std::string path = Dir() + "/state.binpb";
  FaultInjection fault("fsync_dir");
  EXPECT_FALSE(SaveState(path, StateWith(1)).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StateFileTest, FormatFollowsTheNameAndBothLoad) {
  using google::protobuf::util::MessageDifferencer;
  const std::string dir = Dir();
  const PersistedState state = StateWith(7);
  ASSERT_TRUE(SaveState(dir + "/s.textproto", state).ok());
  const std::string text = Slurp(dir + "/s.textproto");
  EXPECT_TRUE(absl::StartsWith(text, "# grod state file")) << text;
  EXPECT_TRUE(absl::StrContains(text, "config_generation: 7")) << text;
  ASSERT_TRUE(SaveState(dir + "/s.binpb", state).ok());
  std::string wire;
  ASSERT_TRUE(state.SerializeToString(&wire));
  EXPECT_EQ(Slurp(dir + "/s.binpb"), wire);
  // What grod wrote before this change: binary under a .textproto name.
  std::ofstream(dir + "/old.textproto", std::ios::binary) << wire;
  for (const char* name : {"/s.textproto", "/s.binpb", "/old.textproto"}) {
    auto loaded = LoadState(dir + name);
    ASSERT_TRUE(loaded.ok() && loaded->has_value()) << name;
    EXPECT_TRUE(MessageDifferencer::Equals(**loaded, state)) << name;
  }
  std::ofstream(dir + "/bad.textproto") << "magic: \"grod-state\" nonsense {";
  EXPECT_EQ(LoadState(dir + "/bad.textproto").status().code(),
            absl::StatusCode::kDataLoss);
}

// A saved state the data plane refuses at start (e.g. fewer hugepages than
// when it was saved): quarantined, or a clear refusal, never half applied.
TEST(StateRecoveryTest, StateTheDataPlaneRefusesIsQuarantinedOrRefused) {
  const std::string file = Dir() + "/state.binpb";
  const absl::Time later = absl::InfiniteFuture();
  {
    testing::FakeDataPlane dp;
    Controller ctl(&dp, file, false);
    ASSERT_TRUE(ctl.Bootstrap({}).ok());
    ASSERT_TRUE(ctl.CreateTenant(MakeTenant("acme", 10), later).ok());
    ASSERT_TRUE(ctl.CreateTenant(MakeTenant("beta", 11), later).ok());
    v1::AddRouteHintsRequest hint;
    hint.set_tenant("beta");
    hint.add_hints()->set_prefix("10.0.0.0/8");
    hint.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
    ASSERT_TRUE(ctl.AddRouteHints(hint, later).ok());
  }
  const std::string saved = Slurp(file);
  v1::GrodConfig config;
  *config.add_tenants() = MakeTenant("cfg", 12);
  const absl::Status no_memory =
      absl::ResourceExhaustedError("cannot allocate the flow table");
  {
    testing::FakeDataPlane dp;
    dp.FailAllMutations(no_memory);
    Controller ctl(&dp, file, false, DefaultLimits(), StateRecovery::kFail);
    absl::Status s = ctl.Bootstrap(config);
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_TRUE(absl::StrContains(s.message(), "--state_recovery=quarantine"))
        << s;
    EXPECT_EQ(Slurp(file), saved);
  }
  {
    // A transient refusal (a worker briefly stalled) is no reason to set
    // the saved state aside: the start fails, the file stays.
    testing::FakeDataPlane dp;
    dp.FailNextMutation(absl::UnavailableError("worker lcore 1 stopped"),
                        "UpsertTenant");
    Controller ctl(&dp, file, false, DefaultLimits(),
                   StateRecovery::kQuarantine);
    EXPECT_EQ(ctl.Bootstrap(config).code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(ctl.quarantined_state(), "");
    EXPECT_EQ(Slurp(file), saved);
    EXPECT_TRUE(dp.tenants().empty()) << "nothing left half applied";
  }
  testing::FakeDataPlane dp;
  // Both tenants are applied, then beta's hints fail: neither tenant may
  // stay behind in the data plane.
  dp.FailNextMutation(no_memory, "AddRouteHints");
  Controller ctl(&dp, file, false, DefaultLimits(), StateRecovery::kQuarantine);
  ASSERT_TRUE(ctl.Bootstrap(config).ok());
  EXPECT_TRUE(
      absl::StrContains(ctl.quarantined_state(), "state.binpb.rejected-"))
      << ctl.quarantined_state();
  EXPECT_EQ(Slurp(ctl.quarantined_state()), saved);
  std::vector<std::string> names;
  for (const auto& [name, spec] : dp.tenants()) names.push_back(name);
  EXPECT_EQ(names, std::vector<std::string>{"cfg"});
  EXPECT_TRUE(ctl.HasTenant("cfg"));
  EXPECT_FALSE(ctl.HasTenant("acme"));
  // The config's state is what is saved now.
  auto loaded = LoadState(file);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  ASSERT_EQ((*loaded)->tenants_size(), 1);
  EXPECT_EQ((*loaded)->tenants(0).name(), "cfg");
}

// Through the gRPC server: the client hears failure and nothing changed,
// on disk included (World compares the state file's bytes). Before the
// fix a failed directory fsync left the new state in the file.
TEST_F(ServiceTest, FailedDirectorySyncChangesNothingAnywhere) {
  Create("acme", 10);
  v1::CreateTenantRequest req;
  *req.mutable_tenant() = MakeTenant("beta", 11);
  v1::Tenant out;
  FaultInjection fault("fsync_dir");
  ExpectRejected([&] { return stub_->CreateTenant(Ctx().get(), req, &out); },
                 StatusCode::INTERNAL, "cannot save state file");
  v1::DeleteTenantRequest del;
  del.set_name("acme");
  google::protobuf::Empty empty;
  ExpectRejected([&] { return stub_->DeleteTenant(Ctx().get(), del, &empty); },
                 StatusCode::INTERNAL, "injected fsync_dir failure");
}

}  // namespace
}  // namespace grod::controlplane
