// Runs the built grocli binary's `apply` against an in-process grod control
// plane over a FakeDataPlane: the printed diff, dry runs, idempotence,
// etags and exit codes.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/grocli_runner.h"
#include "controlplane/test_server.h"
#include "gtest/gtest.h"

namespace grod::cli {
namespace {

using controlplane::Ctx;
using controlplane::MakeTenant;
using controlplane::TestServer;

constexpr char kDesired[] = R"(tenants:
  - name: acme
    selectors: [{port_id: 0, vlan_id: 10}]
    flush_policy: {kind: FLUSH_KIND_TIMEOUT, timeout: 0.0002s}
  - name: gamma
    selectors: [{port_id: 0, vlan_id: 30}]
route_hints:
  - tenant: acme
    hints:
      - {prefix: 10.0.0.0/8, mode: GRO_MODE_BYPASS}
)";

class GrocliApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>();
    stub_ = server_->Stub();
    for (auto [name, vlan] : {std::pair{"acme", 10}, std::pair{"beta", 20}}) {
      v1::CreateTenantRequest req;
      *req.mutable_tenant() = MakeTenant(name, vlan);
      v1::Tenant t;
      ASSERT_TRUE(stub_->CreateTenant(Ctx().get(), req, &t).ok());
    }
    v1::AddRouteHintsRequest add;
    add.set_tenant("acme");
    add.add_hints()->set_prefix("10.0.0.0/8");
    add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
    v1::AddRouteHintsResponse r;
    ASSERT_TRUE(stub_->AddRouteHints(Ctx().get(), add, &r).ok());
    file_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/desired.yaml");
    std::ofstream(file_) << kDesired;
  }

  Result Apply(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.begin(), {"--server", server_->address(), "apply"});
    return RunGrocli(args, {}, in);
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Grod::Stub> stub_;
  std::string file_;
};

TEST_F(GrocliApplyTest, DryRunThenApplyThenNothing) {
  const uint64_t gen = server_->cp().config_generation();
  const std::string diff =
      "- tenant beta (0 route hints)\n"
      "~ tenant acme: flush_policy.kind: FLUSH_KIND_PER_BURST -> "
      "FLUSH_KIND_TIMEOUT, flush_policy.timeout: none -> 200us\n"
      "+ tenant gamma (selectors port=0,vlan=30; mode merge; flush "
      "per-burst)\n"
      "~ route acme 10.0.0.0/8 list -> bypass\n";
  Result r = Apply({"-f", file_, "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(diff,
                                "4 changes (dry run: nothing applied); "
                                "etag ",
                                gen, " (generation ", gen, ")\n"));
  EXPECT_EQ(server_->cp().config_generation(), gen);
  EXPECT_TRUE(server_->dp().tenant("beta").has_value());

  r = Apply({"-f", file_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat(diff, "4 changes applied; etag ", gen + 1,
                                " (generation ", gen + 1, ")\n"));
  EXPECT_FALSE(server_->dp().tenant("beta").has_value());
  EXPECT_EQ(server_->dp().tenant("gamma")->selectors[0].vlan_id, 30);

  r = Apply({"-f", file_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("no changes: grod already has this "
                                "configuration; etag ",
                                gen + 1, " (generation ", gen + 1, ")\n"));
  EXPECT_EQ(server_->cp().config_generation(), gen + 1);
}

TEST_F(GrocliApplyTest, StdinJsonAndStaleEtag) {
  const uint64_t gen = server_->cp().config_generation();
  const std::string json =
      R"({"tenants": [{"name": "acme", "selectors": [{"portId": 0, "vlanId": 10}]}]})";
  // Someone changed the configuration since generation gen-1.
  Result r = Apply({"-f", "-", "--etag", absl::StrCat(gen - 1)}, json);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ABORTED: etag: "), std::string::npos) << r.err;
  EXPECT_TRUE(server_->dp().tenant("beta").has_value());

  r = Apply({"-f", "-", "--etag", absl::StrCat(gen)}, json);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("- tenant beta"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("- route acme 10.0.0.0/8 list"), std::string::npos)
      << r.out;
  EXPECT_FALSE(server_->dp().tenant("beta").has_value());
}

TEST_F(GrocliApplyTest, BadInputExitCodes) {
  const uint64_t gen = server_->cp().config_generation();
  // The command line is fine, the files are not: exit 1, nothing sent.
  Result r = Apply({"-f", "/nonexistent/desired.yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot read /nonexistent/desired.yaml"),
            std::string::npos)
      << r.err;
  r = Apply({}, "");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("-f FILE is required"), std::string::npos) << r.err;
  r = Apply({"-f", "-"}, "tenants: [\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("<stdin>: line"), std::string::npos) << r.err;
  // Valid YAML the server refuses: its message names the item.
  r = Apply({"-f", "-"}, "tenants: [{name: acme}]\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT: tenants[0].selectors"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(server_->cp().config_generation(), gen);
}

}  // namespace
}  // namespace grod::cli
