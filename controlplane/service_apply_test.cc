// ApplyConfig through the real gRPC server: the difference it reports,
// dry runs, idempotence, the set's etag, and all-or-nothing application.
#include <set>

#include "absl/strings/str_cat.h"
#include "controlplane/prefix.h"
#include "controlplane/service_test_util.h"
#include "controlplane/state_file.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;
using Change = v1::ConfigChange;

v1::RouteHint Hint(const std::string& prefix, v1::GroMode mode) {
  v1::RouteHint h;
  h.set_prefix(prefix);
  h.set_mode(mode);
  return h;
}

// "ACTION tenant [prefix] [fields]" per change, as a reader of the diff
// would summarise it.
std::vector<std::string> Summary(const v1::ApplyConfigResponse& r) {
  std::vector<std::string> out;
  for (const Change& c : r.changes()) {
    std::string line =
        absl::StrCat(Change::Action_Name(c.action()), " ", c.tenant());
    if (!c.prefix().empty()) absl::StrAppend(&line, " ", c.prefix());
    for (const std::string& f : c.changed_fields().paths()) {
      absl::StrAppend(&line, " ", f);
    }
    out.push_back(line);
  }
  return out;
}

class ServiceApplyTest : public ServiceTest {
 protected:
  // Current state: acme (VLAN 10, hints 10/8 LIST, 11/8 MERGE) and beta
  // (VLAN 20), built with the imperative calls.
  void SetUpCurrent() {
    Create("acme", 10);
    Create("beta", 20);
    v1::AddRouteHintsRequest add;
    add.set_tenant("acme");
    *add.add_hints() = Hint("10.0.0.0/8", v1::GRO_MODE_LIST);
    *add.add_hints() = Hint("11.0.0.0/8", v1::GRO_MODE_MERGE);
    v1::AddRouteHintsResponse r;
    ASSERT_TRUE(stub_->AddRouteHints(Ctx().get(), add, &r).ok());
  }

  // Desired: acme with a new timeout policy, 10/8 now BYPASS, 11/8 gone,
  // 12/8 added; beta gone; gamma new with one hint.
  static v1::ApplyConfigRequest Desired() {
    v1::ApplyConfigRequest req;
    v1::Tenant* acme = req.add_tenants();
    *acme = MakeTenant("acme", 10);
    acme->mutable_flush_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
    acme->mutable_flush_policy()->mutable_timeout()->set_nanos(200'000);
    *req.add_tenants() = MakeTenant("gamma", 30);
    v1::TenantRouteHints* ah = req.add_route_hints();
    ah->set_tenant("acme");
    *ah->add_hints() = Hint("10.0.0.0/8", v1::GRO_MODE_BYPASS);
    *ah->add_hints() = Hint("12.0.0.0/8", v1::GRO_MODE_LIST);
    v1::TenantRouteHints* gh = req.add_route_hints();
    gh->set_tenant("gamma");
    *gh->add_hints() = Hint("2001:db8::/32", v1::GRO_MODE_MERGE);
    return req;
  }

  grpc::Status Apply(const v1::ApplyConfigRequest& req,
                     v1::ApplyConfigResponse* resp,
                     const std::string& token = "") {
    return stub_->ApplyConfig(Ctx(token).get(), req, resp);
  }

  const std::vector<std::string> kDiff = {
      "DELETE_TENANT beta",
      "UPDATE_TENANT acme flush_policy.kind flush_policy.timeout",
      "CREATE_TENANT gamma",
      "CHANGE_ROUTE_HINT acme 10.0.0.0/8",
      "ADD_ROUTE_HINT acme 12.0.0.0/8",
      "REMOVE_ROUTE_HINT acme 11.0.0.0/8",
      "ADD_ROUTE_HINT gamma 2001:db8::/32",
  };
};

TEST_F(ServiceApplyTest, DryRunShowsTheDiffAndChangesNothing) {
  SetUpCurrent();
  v1::ApplyConfigRequest req = Desired();
  req.set_dry_run(true);
  const World before = Snapshot();
  v1::ApplyConfigResponse resp;
  grpc::Status s = Apply(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(before == Snapshot()) << "a dry run changed state";
  EXPECT_FALSE(resp.applied());
  EXPECT_EQ(Summary(resp), kDiff);
  EXPECT_EQ(resp.config_generation(), before.generation);
  // The hint change carries both modes; the update both versions.
  for (const Change& c : resp.changes()) {
    if (c.action() == Change::CHANGE_ROUTE_HINT) {
      EXPECT_EQ(c.mode_before(), v1::GRO_MODE_LIST);
      EXPECT_EQ(c.mode_after(), v1::GRO_MODE_BYPASS);
    }
    if (c.action() == Change::UPDATE_TENANT) {
      EXPECT_EQ(c.before().flush_policy().kind(), v1::FLUSH_KIND_PER_BURST);
      EXPECT_EQ(c.after().flush_policy().timeout().nanos(), 200'000);
      EXPECT_EQ(c.before().route_hint_count(), 2u);
    }
  }
}

TEST_F(ServiceApplyTest, AppliesTheDiffThenIsIdempotent) {
  SetUpCurrent();
  const uint64_t gen0 = server_->cp().config_generation();
  v1::ApplyConfigResponse resp;
  grpc::Status s = Apply(Desired(), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.applied());
  EXPECT_EQ(Summary(resp), kDiff);
  // One change of configuration, one generation.
  EXPECT_EQ(resp.config_generation(), gen0 + 1);
  EXPECT_EQ(server_->cp().config_generation(), gen0 + 1);

  // The data plane holds exactly the desired set.
  const auto tenants = server_->dp().tenants();
  EXPECT_EQ(tenants.size(), 2u);
  EXPECT_FALSE(tenants.contains("beta"));
  EXPECT_EQ(tenants.at("acme").flush.kind, FlushKind::kTimeout);
  EXPECT_EQ(tenants.at("acme").flush.timeout_ns, 200'000u);
  EXPECT_EQ(tenants.at("gamma").selectors[0].vlan_id, 30);
  const std::map<IpPrefix, GroMode> want_acme = {
      {*ParseIpPrefix("10.0.0.0/8"), GroMode::kBypass},
      {*ParseIpPrefix("12.0.0.0/8"), GroMode::kList}};
  EXPECT_EQ(server_->dp().hints("acme"), want_acme);
  EXPECT_EQ(server_->dp().hints("gamma").size(), 1u);

  // Again: nothing to do, nothing touched, no generation.
  const World before = Snapshot();
  server_->dp().ClearCalls();
  v1::ApplyConfigResponse again;
  ASSERT_TRUE(Apply(Desired(), &again).ok());
  EXPECT_EQ(again.changes_size(), 0);
  EXPECT_FALSE(again.applied());
  EXPECT_EQ(again.config_generation(), gen0 + 1);
  EXPECT_TRUE(before == Snapshot());
  EXPECT_TRUE(server_->dp().calls().empty());

  // Reads see the applied state; the set survives a restart.
  server_.reset();
  ControlPlaneOptions opts;
  opts.state_file = state_file_;
  server_ = std::make_unique<TestServer>(std::move(opts));
  stub_ = server_->Stub();
  ASSERT_TRUE(Apply(Desired(), &again).ok());
  EXPECT_EQ(again.changes_size(), 0) << "state file holds the applied set";
}

TEST_F(ServiceApplyTest, EtagGuardsTheWholeSet) {
  SetUpCurrent();
  v1::ApplyConfigRequest req = Desired();
  req.set_dry_run(true);
  v1::ApplyConfigResponse plan;
  ASSERT_TRUE(Apply(req, &plan).ok());
  ASSERT_FALSE(plan.etag().empty());

  // Someone else changes something between the dry run and the apply.
  v1::AddRouteHintsRequest add;
  add.set_tenant("beta");
  *add.add_hints() = Hint("13.0.0.0/8", v1::GRO_MODE_LIST);
  v1::AddRouteHintsResponse r;
  ASSERT_TRUE(stub_->AddRouteHints(Ctx().get(), add, &r).ok());

  req.set_dry_run(false);
  req.set_etag(plan.etag());
  v1::ApplyConfigResponse resp;
  grpc::Status s;
  ExpectRejected(
      [&] {
        s = Apply(req, &resp);
        return s;
      },
      StatusCode::ABORTED, "etag: ");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  google::rpc::BadRequest br;
  bool found = false;
  for (const auto& any : details.details()) found |= any.UnpackTo(&br);
  ASSERT_TRUE(found);
  EXPECT_EQ(br.field_violations(0).field(), "etag");

  // A fresh dry run's etag works.
  req.set_dry_run(true);
  req.clear_etag();
  ASSERT_TRUE(Apply(req, &plan).ok());
  req.set_dry_run(false);
  req.set_etag(plan.etag());
  ASSERT_TRUE(Apply(req, &resp).ok());
  EXPECT_TRUE(resp.applied());
}

TEST_F(ServiceApplyTest, InvalidItemChangesNothingAndNamesIt) {
  SetUpCurrent();
  struct Case {
    std::function<void(v1::ApplyConfigRequest*)> spoil;
    StatusCode code;
    std::string field;
  };
  const Case cases[] = {
      {[](v1::ApplyConfigRequest* r) {
         r->mutable_tenants(1)->mutable_flush_policy()->set_max_segments(65);
       },
       StatusCode::INVALID_ARGUMENT, "tenants[1].flush_policy.max_segments"},
      {[](v1::ApplyConfigRequest* r) {
         r->mutable_route_hints(1)->mutable_hints(0)->set_prefix(
             "2001:db8::1/32");
       },
       StatusCode::INVALID_ARGUMENT, "route_hints[1].hints[0].prefix"},
      {[](v1::ApplyConfigRequest* r) {
         r->mutable_route_hints(0)->set_tenant("beta");  // not desired
       },
       StatusCode::INVALID_ARGUMENT, "route_hints[0].tenant"},
      {[](v1::ApplyConfigRequest* r) { *r->add_tenants() = r->tenants(0); },
       StatusCode::INVALID_ARGUMENT, "tenants[2].name"},
      {[](v1::ApplyConfigRequest* r) {
         *r->add_tenants() = MakeTenant("delta", 30);  // gamma's selector
       },
       StatusCode::FAILED_PRECONDITION, "tenants[2].selectors[0]"},
      {[](v1::ApplyConfigRequest* r) {
         *r->add_tenants() = MakeTenant("admin", 40);
       },
       StatusCode::INVALID_ARGUMENT, "tenants[2].name"},
      {[](v1::ApplyConfigRequest* r) {
         r->mutable_tenants(0)->mutable_selectors(0)->set_port_id(9);
       },
       StatusCode::INVALID_ARGUMENT, "tenants[0].selectors[0].port_id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::ApplyConfigRequest req = Desired();
    c.spoil(&req);
    v1::ApplyConfigResponse resp;
    ExpectRejected([&] { return Apply(req, &resp); }, c.code, c.field + ": ");
  }
}

TEST_F(ServiceApplyTest, DataPlaneRefusalHalfWayUndoesEverything) {
  SetUpCurrent();
  // Fail each data-plane step the apply makes in turn: whichever fails,
  // the data plane, memory and disk end as they were.
  const std::vector<std::string> steps = {"RemoveTenant", "UpsertTenant",
                                          "AddRouteHints", "RemoveRouteHints"};
  for (const std::string& step : steps) {
    SCOPED_TRACE(step);
    const World before = Snapshot();
    server_->dp().FailNextMutation(absl::UnavailableError("injected"), step);
    v1::ApplyConfigResponse resp;
    grpc::Status s = Apply(Desired(), &resp);
    EXPECT_EQ(s.error_code(), StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_NE(s.error_message().find("nothing applied"), std::string::npos);
    EXPECT_TRUE(before == Snapshot()) << "a failed apply changed state";
  }
  // Persisting fails last: rolled back too.
  {
    const World before = Snapshot();
    SetFaultHookForTest([](absl::string_view step) {
      return step == "write" ? absl::ResourceExhaustedError("disk full")
                             : absl::OkStatus();
    });
    v1::ApplyConfigResponse resp;
    grpc::Status s = Apply(Desired(), &resp);
    SetFaultHookForTest(nullptr);
    EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED)
        << s.error_message();
    EXPECT_TRUE(before == Snapshot()) << "a failed save left changes";
  }
  // And then it applies.
  v1::ApplyConfigResponse resp;
  ASSERT_TRUE(Apply(Desired(), &resp).ok());
  EXPECT_TRUE(resp.applied());
}

TEST_F(ServiceApplyTest, RolesAndLimits) {
  // Limits are checked on the whole set before anything changes.
  server_.reset();
  ControlPlaneOptions opts;
  opts.state_file = state_file_;
  opts.limits.set_max_tenants(1);
  opts.limits.set_mutations_per_second(100000);
  opts.limits.set_mutation_burst(10000000);
  server_ = std::make_unique<TestServer>(std::move(opts));
  stub_ = server_->Stub();
  Create("acme", 10);
  v1::ApplyConfigResponse resp;
  grpc::Status s;
  ExpectRejected(
      [&] {
        s = Apply(Desired(), &resp);
        return s;
      },
      StatusCode::RESOURCE_EXHAUSTED, "limits.max_tenants");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  google::rpc::QuotaFailure qf;
  bool found = false;
  for (const auto& any : details.details()) found |= any.UnpackTo(&qf);
  ASSERT_TRUE(found);
  EXPECT_EQ(qf.violations(0).subject(), "limits.max_tenants");
}

TEST_F(ServiceApplyTest, EmptySetDeletesEverything) {
  SetUpCurrent();
  v1::ApplyConfigResponse resp;
  ASSERT_TRUE(Apply(v1::ApplyConfigRequest(), &resp).ok());
  EXPECT_EQ(Summary(resp), (std::vector<std::string>{"DELETE_TENANT acme",
                                                     "DELETE_TENANT beta"}));
  EXPECT_TRUE(server_->dp().tenants().empty());
}

}  // namespace
}  // namespace grod::controlplane
