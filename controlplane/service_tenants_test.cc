// Tenant and flush-policy calls over a real gRPC socket: success paths,
// every error code, and "a failed call changes nothing".
#include "controlplane/service_test_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

TEST_F(ServiceTest, CreateGetListDelete) {
  v1::Tenant created = Create("acme");
  EXPECT_EQ(created.name(), "acme");
  EXPECT_EQ(created.quotas().max_flows(), 4096u) << "defaults filled";
  EXPECT_EQ(created.default_mode(), v1::GRO_MODE_MERGE);
  EXPECT_GT(created.create_time().seconds(), 0);
  ASSERT_TRUE(server_->dp().tenant("acme").has_value());
  EXPECT_EQ(server_->dp().tenant("acme")->selectors[0].vlan_id, 10);
  EXPECT_EQ(server_->cp().config_generation(), 1u);

  v1::GetTenantRequest get;
  get.set_name("acme");
  v1::Tenant got;
  ASSERT_TRUE(stub_->GetTenant(Ctx().get(), get, &got).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, created));

  Create("beta", 11);
  v1::ListTenantsResponse list;
  ASSERT_TRUE(stub_->ListTenants(Ctx().get(), {}, &list).ok());
  ASSERT_EQ(list.tenants_size(), 2);
  EXPECT_EQ(list.tenants(0).name(), "acme");
  EXPECT_EQ(list.tenants(1).name(), "beta");
  EXPECT_TRUE(list.next_page_token().empty());

  v1::DeleteTenantRequest del;
  del.set_name("acme");
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteTenant(Ctx().get(), del, &empty).ok());
  EXPECT_FALSE(server_->dp().tenant("acme").has_value());
  ExpectError(stub_->GetTenant(Ctx().get(), get, &got), StatusCode::NOT_FOUND,
              "acme");
  EXPECT_EQ(server_->cp().config_generation(), 3u);
}

TEST_F(ServiceTest, ListTenantsPaginates) {
  for (int i = 0; i < 7; ++i) Create("t" + std::to_string(i), 100 + i);
  v1::ListTenantsRequest req;
  req.set_page_size(3);
  std::vector<std::string> names;
  int pages = 0;
  do {
    v1::ListTenantsResponse resp;
    ASSERT_TRUE(stub_->ListTenants(Ctx().get(), req, &resp).ok());
    for (const auto& t : resp.tenants()) names.push_back(t.name());
    req.set_page_token(resp.next_page_token());
    ++pages;
    // A tenant added mid-listing before the cursor does not shift pages.
    if (pages == 1) Create("a-early", 200);
  } while (!req.page_token().empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"t0", "t1", "t2", "t3", "t4", "t5",
                                             "t6"}));

  v1::ListTenantsResponse resp;
  req.set_page_token("garbage!");
  ExpectError(stub_->ListTenants(Ctx().get(), req, &resp),
              StatusCode::INVALID_ARGUMENT, "page_token");
  req.set_page_token("");
  req.set_page_size(1001);
  ExpectError(stub_->ListTenants(Ctx().get(), req, &resp),
              StatusCode::INVALID_ARGUMENT, "page_size");
  req.set_page_size(-1);
  ExpectError(stub_->ListTenants(Ctx().get(), req, &resp),
              StatusCode::INVALID_ARGUMENT, "page_size");
}

TEST_F(ServiceTest, CreateErrorsChangeNothing) {
  Create("acme", 10);
  v1::Tenant out;
  auto create = [&](v1::Tenant t) {
    return [this, t, &out] {
      v1::CreateTenantRequest req;
      *req.mutable_tenant() = t;
      return stub_->CreateTenant(Ctx().get(), req, &out);
    };
  };
  ExpectRejected(create(MakeTenant("acme", 99)), StatusCode::ALREADY_EXISTS,
                 "acme");
  ExpectRejected(create(MakeTenant("other", 10)),
                 StatusCode::FAILED_PRECONDITION,
                 "tenant.selectors[0]: identical to a selector of tenant acme");
  ExpectRejected(create(MakeTenant("Bad_Name")), StatusCode::INVALID_ARGUMENT,
                 "tenant.name");
  ExpectRejected(create(v1::Tenant()), StatusCode::INVALID_ARGUMENT,
                 "tenant.name: required");
  v1::Tenant t = MakeTenant("b", 20);
  t.clear_selectors();
  ExpectRejected(create(t), StatusCode::INVALID_ARGUMENT, "tenant.selectors");
  t = MakeTenant("b", 20);
  t.mutable_selectors(0)->set_port_id(7);
  ExpectRejected(create(t), StatusCode::INVALID_ARGUMENT,
                 "tenant.selectors[0].port_id: no such port 7");
  t = MakeTenant("b", 20);
  t.mutable_flush_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
  t.mutable_flush_policy()->mutable_timeout()->set_seconds(11);
  ExpectRejected(create(t), StatusCode::INVALID_ARGUMENT,
                 "tenant.flush_policy.timeout: must be between 1us and 10s");
  t = MakeTenant("b", 20);
  t.mutable_quotas()->set_max_held_packets(5'000'000);
  ExpectRejected(create(t), StatusCode::INVALID_ARGUMENT,
                 "tenant.quotas.max_held_packets");

  server_->dp().FailNextMutation(absl::InternalError("injected"));
  ExpectRejected(create(MakeTenant("b", 20)), StatusCode::INTERNAL, "injected");
  server_->dp().SetReady(false);
  ExpectRejected(create(MakeTenant("b", 20)), StatusCode::UNAVAILABLE,
                 "not ready");
  server_->dp().SetReady(true);
  EXPECT_TRUE(create(MakeTenant("b", 20))().ok());
}

TEST_F(ServiceTest, TenantLimit) {
  for (int i = 0; i < 256; ++i) Create("t" + std::to_string(i), i + 1);
  v1::CreateTenantRequest req;
  *req.mutable_tenant() = MakeTenant("one-too-many", 1000);
  v1::Tenant out;
  ExpectRejected([&] { return stub_->CreateTenant(Ctx().get(), req, &out); },
                 StatusCode::RESOURCE_EXHAUSTED, "256");
}

TEST_F(ServiceTest, UpdateTenant) {
  v1::Tenant created = Create("acme", 10);
  Create("beta", 11);
  v1::UpdateTenantRequest req;
  req.mutable_tenant()->set_name("acme");
  req.mutable_tenant()->mutable_quotas()->set_max_flows(77);
  req.mutable_tenant()->set_default_mode(v1::GRO_MODE_LIST);
  req.mutable_update_mask()->add_paths("quotas.max_flows");
  v1::Tenant out;
  ASSERT_TRUE(stub_->UpdateTenant(Ctx().get(), req, &out).ok());
  EXPECT_EQ(out.quotas().max_flows(), 77u);
  EXPECT_EQ(out.default_mode(), v1::GRO_MODE_MERGE) << "not in mask";
  EXPECT_EQ(out.selectors_size(), 1) << "not in mask";
  EXPECT_EQ(server_->dp().tenant("acme")->max_flows, 77u);
  EXPECT_EQ(out.create_time().seconds(), created.create_time().seconds());

  auto update = [&](v1::UpdateTenantRequest r) {
    return
        [this, r, &out] { return stub_->UpdateTenant(Ctx().get(), r, &out); };
  };
  v1::UpdateTenantRequest bad = req;
  bad.mutable_tenant()->set_name("nope");
  ExpectRejected(update(bad), StatusCode::NOT_FOUND, "nope");
  bad = req;
  bad.mutable_update_mask()->add_paths("create_time");
  ExpectRejected(update(bad), StatusCode::INVALID_ARGUMENT,
                 "update_mask.paths[1]");
  bad = req;
  bad.mutable_update_mask()->set_paths(0, "name");
  ExpectRejected(update(bad), StatusCode::INVALID_ARGUMENT, "immutable");
  bad = req;
  bad.mutable_update_mask()->set_paths(0, "selectors");
  *bad.mutable_tenant()->add_selectors() = MakeTenant("x", 11).selectors(0);
  ExpectRejected(update(bad), StatusCode::FAILED_PRECONDITION, "beta");
  bad = req;
  bad.mutable_update_mask()->set_paths(0, "selectors");
  ExpectRejected(update(bad), StatusCode::INVALID_ARGUMENT,
                 "tenant.selectors: at least one");
  bad = req;
  bad.mutable_update_mask()->set_paths(0, "flush_policy");
  bad.mutable_tenant()->mutable_flush_policy()->set_kind(
      v1::FLUSH_KIND_ADAPTIVE);
  ExpectRejected(update(bad), StatusCode::INVALID_ARGUMENT,
                 "tenant.flush_policy.timeout");
  server_->dp().FailNextMutation(absl::ResourceExhaustedError("no memory"));
  req.mutable_tenant()->mutable_quotas()->set_max_flows(78);
  ExpectRejected(update(req), StatusCode::RESOURCE_EXHAUSTED, "no memory");

  // No mask = every populated field (AIP-134): quotas are not populated
  // here, so they stay.
  v1::UpdateTenantRequest all;
  *all.mutable_tenant() = MakeTenant("acme", 12);
  all.mutable_tenant()->add_gro_types(v1::GRO_TYPE_TCP4);
  ASSERT_TRUE(stub_->UpdateTenant(Ctx().get(), all, &out).ok());
  EXPECT_EQ(out.quotas().max_flows(), 77u);
  EXPECT_EQ(server_->dp().tenant("acme")->gro_types, kGroTcp4);
  EXPECT_EQ(server_->dp().tenant("acme")->selectors[0].vlan_id, 12);

  // "*" = full replacement: the unset quotas go back to their defaults.
  all.mutable_update_mask()->add_paths("*");
  ASSERT_TRUE(stub_->UpdateTenant(Ctx().get(), all, &out).ok());
  EXPECT_EQ(out.quotas().max_flows(), 4096u);
  EXPECT_EQ(server_->dp().tenant("acme")->max_flows, 4096u);
}

TEST_F(ServiceTest, DeleteErrors) {
  Create("acme");
  v1::DeleteTenantRequest del;
  google::protobuf::Empty empty;
  del.set_name("nope");
  ExpectRejected([&] { return stub_->DeleteTenant(Ctx().get(), del, &empty); },
                 StatusCode::NOT_FOUND, "nope");
  del.set_name("");
  ExpectRejected([&] { return stub_->DeleteTenant(Ctx().get(), del, &empty); },
                 StatusCode::INVALID_ARGUMENT, "name: required");
  del.set_name("acme");
  server_->dp().FailNextMutation(absl::InternalError("injected"));
  ExpectRejected([&] { return stub_->DeleteTenant(Ctx().get(), del, &empty); },
                 StatusCode::INTERNAL, "injected");
}

TEST_F(ServiceTest, FlushPolicy) {
  Create("acme");
  v1::SetFlushPolicyRequest set;
  set.set_tenant("acme");
  set.mutable_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
  set.mutable_policy()->mutable_timeout()->set_nanos(50'000);
  set.mutable_policy()->set_max_segments(16);
  v1::FlushPolicy out;
  ASSERT_TRUE(stub_->SetFlushPolicy(Ctx().get(), set, &out).ok());
  EXPECT_EQ(out.max_merged_bytes(), 65535u);
  EXPECT_EQ(server_->dp().tenant("acme")->flush.kind, FlushKind::kTimeout);
  EXPECT_EQ(server_->dp().tenant("acme")->flush.timeout_ns, 50'000u);
  EXPECT_EQ(server_->dp().tenant("acme")->flush.max_segments, 16u);

  v1::GetFlushPolicyRequest get;
  get.set_tenant("acme");
  v1::FlushPolicy got;
  ASSERT_TRUE(stub_->GetFlushPolicy(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.timeout().nanos(), 50'000);

  auto setter = [&](v1::SetFlushPolicyRequest r) {
    return
        [this, r, &out] { return stub_->SetFlushPolicy(Ctx().get(), r, &out); };
  };
  v1::SetFlushPolicyRequest bad = set;
  bad.mutable_policy()->mutable_timeout()->set_nanos(10);
  ExpectRejected(setter(bad), StatusCode::INVALID_ARGUMENT,
                 "policy.timeout: must be between 1us and 10s");
  bad = set;
  bad.mutable_policy()->set_kind(static_cast<v1::FlushKind>(42));
  ExpectRejected(setter(bad), StatusCode::INVALID_ARGUMENT, "policy.kind");
  bad = set;
  bad.set_tenant("nope");
  ExpectRejected(setter(bad), StatusCode::NOT_FOUND, "nope");
  server_->dp().FailNextMutation(absl::InternalError("injected"));
  ExpectRejected(setter(set), StatusCode::INTERNAL, "injected");
  get.set_tenant("nope");
  ExpectError(stub_->GetFlushPolicy(Ctx().get(), get, &got),
              StatusCode::NOT_FOUND, "nope");
}

TEST_F(ServiceTest, ExpiredDeadlineChangesNothing) {
  v1::CreateTenantRequest req;
  *req.mutable_tenant() = MakeTenant("acme");
  v1::Tenant out;
  ExpectRejected(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() -
                         std::chrono::seconds(1));
        return stub_->CreateTenant(&ctx, req, &out);
      },
      StatusCode::DEADLINE_EXCEEDED, "");
}

}  // namespace
}  // namespace grod::controlplane
