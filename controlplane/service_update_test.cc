// UpdateTenant's masks (AIP-134), etags (AIP-154) and the google.rpc error
// details of failures, through the real gRPC server: what a client on the
// wire sees.
#include "absl/strings/str_cat.h"
#include "controlplane/service_test_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

// The details of `s` parsed as a client would; fails the test if absent.
google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status rpc;
  EXPECT_FALSE(s.error_details().empty())
      << "no details: " << s.error_message();
  EXPECT_TRUE(rpc.ParseFromString(s.error_details()));
  EXPECT_EQ(rpc.code(), static_cast<int>(s.error_code()));
  EXPECT_EQ(rpc.message(), s.error_message());
  return rpc;
}

template <typename T>
std::optional<T> Detail(const grpc::Status& s) {
  const google::rpc::Status rpc = Details(s);
  for (const google::protobuf::Any& any : rpc.details()) {
    T t;
    if (any.UnpackTo(&t)) return t;
  }
  return std::nullopt;
}

// The one field violation of `s`'s BadRequest.
std::string ViolatedField(const grpc::Status& s) {
  std::optional<google::rpc::BadRequest> br =
      Detail<google::rpc::BadRequest>(s);
  if (!br.has_value()) return "<no BadRequest>";
  EXPECT_EQ(br->field_violations_size(), 1);
  if (br->field_violations_size() == 0) return "<no violation>";
  EXPECT_FALSE(br->field_violations(0).description().empty());
  return br->field_violations(0).field();
}

class ServiceUpdateTest : public ServiceTest {
 protected:
  // acme with a TIMEOUT policy and non-default quotas.
  v1::Tenant CreateAcme() {
    v1::CreateTenantRequest req;
    *req.mutable_tenant() = MakeTenant("acme", 10);
    v1::Tenant* t = req.mutable_tenant();
    t->mutable_quotas()->set_max_flows(100);
    t->mutable_quotas()->set_max_held_packets(200);
    t->set_default_mode(v1::GRO_MODE_LIST);
    t->mutable_flush_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
    t->mutable_flush_policy()->mutable_timeout()->set_nanos(100'000);
    t->mutable_flush_policy()->set_max_segments(8);
    v1::Tenant out;
    grpc::Status s = stub_->CreateTenant(Ctx().get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Update(const v1::UpdateTenantRequest& req, v1::Tenant* out) {
    return stub_->UpdateTenant(Ctx().get(), req, out);
  }
};

TEST_F(ServiceUpdateTest, NestedPathChangesOnlyThatField) {
  CreateAcme();
  v1::UpdateTenantRequest req;
  req.mutable_tenant()->set_name("acme");
  req.mutable_tenant()->mutable_flush_policy()->mutable_timeout()->set_nanos(
      300'000);
  // Set in the patch but not named: must not be applied.
  req.mutable_tenant()->mutable_flush_policy()->set_max_segments(2);
  req.mutable_tenant()->set_default_mode(v1::GRO_MODE_BYPASS);
  req.mutable_update_mask()->add_paths("flush_policy.timeout");
  v1::Tenant out;
  ASSERT_TRUE(Update(req, &out).ok());
  EXPECT_EQ(out.flush_policy().timeout().nanos(), 300'000);
  EXPECT_EQ(out.flush_policy().kind(), v1::FLUSH_KIND_TIMEOUT);
  EXPECT_EQ(out.flush_policy().max_segments(), 8u);
  EXPECT_EQ(out.default_mode(), v1::GRO_MODE_LIST);
  const TenantSpec spec = *server_->dp().tenant("acme");
  EXPECT_EQ(spec.flush.timeout_ns, 300'000u);
  EXPECT_EQ(spec.flush.max_segments, 8u);

  // Another nested field of another message in the same call.
  req.clear_update_mask();
  req.mutable_update_mask()->add_paths("quotas.max_held_packets");
  req.mutable_update_mask()->add_paths("flush_policy.max_segments");
  req.mutable_tenant()->mutable_quotas()->set_max_held_packets(300);
  req.mutable_tenant()->mutable_quotas()->set_max_flows(1);  // not named
  ASSERT_TRUE(Update(req, &out).ok());
  EXPECT_EQ(out.quotas().max_held_packets(), 300u);
  EXPECT_EQ(out.quotas().max_flows(), 100u);
  EXPECT_EQ(out.flush_policy().max_segments(), 2u);
  EXPECT_EQ(out.flush_policy().timeout().nanos(), 300'000);
}

TEST_F(ServiceUpdateTest, NoMaskUpdatesPopulatedFieldsStarReplacesAll) {
  CreateAcme();
  v1::UpdateTenantRequest req;
  req.mutable_tenant()->set_name("acme");
  req.mutable_tenant()->set_default_mode(v1::GRO_MODE_BYPASS);
  v1::Tenant out;
  ASSERT_TRUE(Update(req, &out).ok());
  EXPECT_EQ(out.default_mode(), v1::GRO_MODE_BYPASS);
  EXPECT_EQ(out.quotas().max_flows(), 100u) << "not populated: kept";
  EXPECT_EQ(out.flush_policy().kind(), v1::FLUSH_KIND_TIMEOUT);

  *req.mutable_tenant() = MakeTenant("acme", 10);
  req.mutable_update_mask()->add_paths("*");
  ASSERT_TRUE(Update(req, &out).ok());
  EXPECT_EQ(out.default_mode(), v1::GRO_MODE_MERGE) << "unset: default";
  EXPECT_EQ(out.quotas().max_flows(), 4096u);
  EXPECT_EQ(out.flush_policy().kind(), v1::FLUSH_KIND_PER_BURST);
  EXPECT_EQ(server_->dp().tenant("acme")->flush.kind, FlushKind::kPerBurst);
}

TEST_F(ServiceUpdateTest, InvalidPathsNameTheFieldAndChangeNothing) {
  CreateAcme();
  struct Case {
    std::vector<std::string> paths;
    std::string field;
    std::string says;
  };
  const Case cases[] = {
      {{"default_mode", "flush_policy.bogus"},
       "update_mask.paths[1]",
       "no field"},
      {{"selectors.vlan_id"}, "update_mask.paths[0]", "no field"},
      {{"name"}, "update_mask.paths[0]", "immutable"},
      {{"etag"}, "update_mask.paths[0]", "output only"},
      {{"quotas", "*"}, "update_mask.paths[1]", "only path"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field + " " + c.says);
    v1::UpdateTenantRequest req;
    req.mutable_tenant()->set_name("acme");
    req.mutable_tenant()->set_default_mode(v1::GRO_MODE_BYPASS);
    for (const std::string& p : c.paths)
      req.mutable_update_mask()->add_paths(p);
    v1::Tenant out;
    grpc::Status s;
    ExpectRejected(
        [&] {
          s = Update(req, &out);
          return s;
        },
        StatusCode::INVALID_ARGUMENT, c.field + ": ");
    EXPECT_NE(s.error_message().find(c.says), std::string::npos)
        << s.error_message();
    EXPECT_EQ(ViolatedField(s), c.field);
  }
  // A valid path whose value is invalid names the tenant's field.
  v1::UpdateTenantRequest req;
  req.mutable_tenant()->set_name("acme");
  req.mutable_update_mask()->add_paths("flush_policy.timeout");
  req.mutable_tenant()->mutable_flush_policy()->mutable_timeout()->set_seconds(
      11);
  v1::Tenant out;
  grpc::Status s;
  ExpectRejected(
      [&] {
        s = Update(req, &out);
        return s;
      },
      StatusCode::INVALID_ARGUMENT, "tenant.flush_policy.timeout: ");
  EXPECT_EQ(ViolatedField(s), "tenant.flush_policy.timeout");
}

TEST_F(ServiceUpdateTest, StaleEtagFromAnotherClientIsAborted) {
  const v1::Tenant created = CreateAcme();
  ASSERT_FALSE(created.etag().empty());
  // Two operators read the same tenant over their own channels.
  std::unique_ptr<v1::Grod::Stub> alice = server_->Stub();
  std::unique_ptr<v1::Grod::Stub> bob = server_->Stub();
  v1::GetTenantRequest get;
  get.set_name("acme");
  v1::Tenant alice_view, bob_view;
  ASSERT_TRUE(alice->GetTenant(Ctx().get(), get, &alice_view).ok());
  ASSERT_TRUE(bob->GetTenant(Ctx().get(), get, &bob_view).ok());
  EXPECT_EQ(alice_view.etag(), bob_view.etag());

  // Alice changes the policy with her etag: accepted, new etag.
  v1::UpdateTenantRequest a;
  a.mutable_tenant()->set_name("acme");
  a.mutable_tenant()->set_etag(alice_view.etag());
  a.mutable_tenant()->mutable_flush_policy()->set_max_segments(4);
  a.mutable_update_mask()->add_paths("flush_policy.max_segments");
  v1::Tenant after_alice;
  ASSERT_TRUE(alice->UpdateTenant(Ctx().get(), a, &after_alice).ok());
  EXPECT_NE(after_alice.etag(), alice_view.etag());

  // Bob's update from his older read must not overwrite hers.
  v1::UpdateTenantRequest b = a;
  b.mutable_tenant()->set_etag(bob_view.etag());
  b.mutable_tenant()->mutable_flush_policy()->set_max_segments(16);
  v1::Tenant out;
  grpc::Status s;
  ExpectRejected(
      [&] {
        s = bob->UpdateTenant(Ctx().get(), b, &out);
        return s;
      },
      StatusCode::ABORTED, "tenant.etag: ");
  EXPECT_EQ(ViolatedField(s), "tenant.etag");
  std::optional<google::rpc::ResourceInfo> info =
      Detail<google::rpc::ResourceInfo>(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->resource_type(), "grod.v1.Tenant");
  EXPECT_EQ(info->resource_name(), "tenant acme");
  EXPECT_EQ(server_->dp().tenant("acme")->flush.max_segments, 4u);

  // Bob deleting with his stale etag is refused too; with the fresh one
  // it works.
  v1::DeleteTenantRequest del;
  del.set_name("acme");
  del.set_etag(bob_view.etag());
  google::protobuf::Empty empty;
  ExpectRejected([&] { return bob->DeleteTenant(Ctx().get(), del, &empty); },
                 StatusCode::ABORTED, "etag: ");
  ASSERT_TRUE(bob->GetTenant(Ctx().get(), get, &bob_view).ok());
  EXPECT_EQ(bob_view.etag(), after_alice.etag());
  del.set_etag(bob_view.etag());
  ASSERT_TRUE(bob->DeleteTenant(Ctx().get(), del, &empty).ok());
  EXPECT_FALSE(server_->dp().tenant("acme").has_value());
}

TEST_F(ServiceUpdateTest, RouteHintChangesMoveTheEtag) {
  const v1::Tenant created = CreateAcme();
  v1::AddRouteHintsRequest add;
  add.set_tenant("acme");
  add.add_hints()->set_prefix("10.0.0.0/8");
  add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
  v1::AddRouteHintsResponse r;
  ASSERT_TRUE(stub_->AddRouteHints(Ctx().get(), add, &r).ok());
  v1::GetTenantRequest get;
  get.set_name("acme");
  v1::Tenant now;
  ASSERT_TRUE(stub_->GetTenant(Ctx().get(), get, &now).ok());
  EXPECT_NE(now.etag(), created.etag());
  EXPECT_EQ(now.route_hint_count(), 1u);
  // A read changes nothing.
  v1::Tenant again;
  ASSERT_TRUE(stub_->GetTenant(Ctx().get(), get, &again).ok());
  EXPECT_EQ(again.etag(), now.etag());
}

TEST_F(ServiceUpdateTest, EtagSurvivesRestart) {
  const v1::Tenant created = CreateAcme();
  server_.reset();
  ControlPlaneOptions opts;
  opts.state_file = state_file_;
  server_ = std::make_unique<TestServer>(std::move(opts));
  stub_ = server_->Stub();
  v1::GetTenantRequest get;
  get.set_name("acme");
  v1::Tenant now;
  ASSERT_TRUE(stub_->GetTenant(Ctx().get(), get, &now).ok());
  EXPECT_EQ(now.etag(), created.etag());
}

TEST_F(ServiceUpdateTest, ErrorDetailsByCode) {
  CreateAcme();
  // NOT_FOUND: ResourceInfo names the tenant.
  v1::GetTenantRequest get;
  get.set_name("nope");
  v1::Tenant t;
  grpc::Status s = stub_->GetTenant(Ctx().get(), get, &t);
  ASSERT_EQ(s.error_code(), StatusCode::NOT_FOUND);
  std::optional<google::rpc::ResourceInfo> info =
      Detail<google::rpc::ResourceInfo>(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->resource_name(), "nope");

  // ALREADY_EXISTS too.
  v1::CreateTenantRequest create;
  *create.mutable_tenant() = MakeTenant("acme", 20);
  s = stub_->CreateTenant(Ctx().get(), create, &t);
  ASSERT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Detail<google::rpc::ResourceInfo>(s).has_value());

  // INVALID_ARGUMENT from a route hint: BadRequest names hints[1].prefix.
  v1::AddRouteHintsRequest add;
  add.set_tenant("acme");
  add.add_hints()->set_prefix("10.0.0.0/8");
  add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
  add.add_hints()->set_prefix("10.0.0.1/8");
  add.mutable_hints(1)->set_mode(v1::GRO_MODE_LIST);
  v1::AddRouteHintsResponse r;
  s = stub_->AddRouteHints(Ctx().get(), add, &r);
  ASSERT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(s), "hints[1].prefix");

  // RESOURCE_EXHAUSTED: QuotaFailure names the limit.
  v1::RemoveRouteHintsRequest rm;
  rm.set_tenant("acme");
  for (int i = 0; i < 100001; ++i) rm.add_prefixes("10.0.0.0/8");
  v1::RemoveRouteHintsResponse rr;
  s = stub_->RemoveRouteHints(Ctx().get(), rm, &rr);
  ASSERT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  std::optional<google::rpc::QuotaFailure> qf =
      Detail<google::rpc::QuotaFailure>(s);
  ASSERT_TRUE(qf.has_value());
  ASSERT_EQ(qf->violations_size(), 1);
  EXPECT_EQ(qf->violations(0).subject(), "prefixes");
}

}  // namespace
}  // namespace grod::controlplane
