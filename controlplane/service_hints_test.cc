// Route-hint calls over gRPC: all-or-nothing batches, limits, pagination.
#include "controlplane/prefix.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

v1::AddRouteHintsRequest AddReq(const std::string& tenant,
                                std::vector<std::string> prefixes,
                                v1::GroMode mode = v1::GRO_MODE_LIST) {
  v1::AddRouteHintsRequest req;
  req.set_tenant(tenant);
  for (const auto& p : prefixes) {
    v1::RouteHint* h = req.add_hints();
    h->set_prefix(p);
    h->set_mode(mode);
  }
  return req;
}

TEST_F(ServiceTest, AddRemoveHints) {
  Create("acme");
  v1::AddRouteHintsResponse added;
  ASSERT_TRUE(stub_
                  ->AddRouteHints(
                      Ctx().get(),
                      AddReq("acme", {"10.0.0.0/8", "2001:db8::/32"}), &added)
                  .ok());
  EXPECT_EQ(added.added(), 2u);
  EXPECT_EQ(added.replaced(), 0u);
  EXPECT_EQ(added.total(), 2u);
  auto hints = server_->dp().hints("acme");
  EXPECT_EQ(hints.at(*ParseIpPrefix("10.0.0.0/8")), GroMode::kList);

  ASSERT_TRUE(stub_
                  ->AddRouteHints(Ctx().get(),
                                  AddReq("acme", {"10.0.0.0/8", "10.1.0.0/16"},
                                         v1::GRO_MODE_BYPASS),
                                  &added)
                  .ok());
  EXPECT_EQ(added.added(), 1u);
  EXPECT_EQ(added.replaced(), 1u);
  EXPECT_EQ(added.total(), 3u);
  EXPECT_EQ(server_->dp().hints("acme").at(*ParseIpPrefix("10.0.0.0/8")),
            GroMode::kBypass);

  v1::GetTenantRequest get;
  get.set_name("acme");
  v1::Tenant t;
  ASSERT_TRUE(stub_->GetTenant(Ctx().get(), get, &t).ok());
  EXPECT_EQ(t.route_hint_count(), 3u);

  v1::RemoveRouteHintsRequest rm;
  rm.set_tenant("acme");
  rm.add_prefixes("10.1.0.0/16");
  rm.add_prefixes("2001:DB8::/32");  // non-canonical spelling is the same hint
  v1::RemoveRouteHintsResponse removed;
  ASSERT_TRUE(stub_->RemoveRouteHints(Ctx().get(), rm, &removed).ok());
  EXPECT_EQ(removed.removed(), 2u);
  EXPECT_EQ(removed.total(), 1u);
  EXPECT_EQ(server_->dp().hints("acme").size(), 1u);

  rm.clear_prefixes();
  rm.add_prefixes("10.0.0.0/8");
  rm.add_prefixes("192.168.0.0/16");
  ExpectRejected(
      [&] { return stub_->RemoveRouteHints(Ctx().get(), rm, &removed); },
      StatusCode::NOT_FOUND, "prefixes[1]: 192.168.0.0/16");
  rm.set_allow_missing(true);
  ASSERT_TRUE(stub_->RemoveRouteHints(Ctx().get(), rm, &removed).ok());
  EXPECT_EQ(removed.removed(), 1u);
  EXPECT_EQ(removed.total(), 0u);
}

TEST_F(ServiceTest, HintErrorsChangeNothing) {
  Create("acme");
  v1::AddRouteHintsResponse out;
  ASSERT_TRUE(
      stub_->AddRouteHints(Ctx().get(), AddReq("acme", {"10.0.0.0/8"}), &out)
          .ok());
  auto add = [&](v1::AddRouteHintsRequest r) {
    return
        [this, r, &out] { return stub_->AddRouteHints(Ctx().get(), r, &out); };
  };
  ExpectRejected(add(AddReq("acme", {"11.0.0.0/8", "10.0.0.1/8"})),
                 StatusCode::INVALID_ARGUMENT, "hints[1].prefix: ");
  ExpectRejected(add(AddReq("acme", {"11.0.0.0/8", "banana"})),
                 StatusCode::INVALID_ARGUMENT, "hints[1].prefix");
  ExpectRejected(add(AddReq("acme", {"11.0.0.0/8", "11.0.0.0/8"})),
                 StatusCode::INVALID_ARGUMENT,
                 "hints[1].prefix: duplicate of hints[0]");
  ExpectRejected(add(AddReq("acme", {"11.0.0.0/8"}, v1::GRO_MODE_UNSPECIFIED)),
                 StatusCode::INVALID_ARGUMENT, "hints[0].mode");
  ExpectRejected(add(AddReq("nope", {"11.0.0.0/8"})), StatusCode::NOT_FOUND,
                 "nope");
  ExpectRejected(add(AddReq("", {"11.0.0.0/8"})), StatusCode::INVALID_ARGUMENT,
                 "tenant: required");
  server_->dp().FailNextMutation(absl::InternalError("injected"));
  ExpectRejected(add(AddReq("acme", {"11.0.0.0/8", "10.0.0.0/8"})),
                 StatusCode::INTERNAL, "injected");

  v1::RemoveRouteHintsRequest rm;
  rm.set_tenant("acme");
  rm.add_prefixes("10.0.0.0/8");
  v1::RemoveRouteHintsResponse rout;
  server_->dp().FailNextMutation(absl::InternalError("injected"));
  ExpectRejected(
      [&] { return stub_->RemoveRouteHints(Ctx().get(), rm, &rout); },
      StatusCode::INTERNAL, "injected");
  rm.add_prefixes("300.0.0.0/8");
  ExpectRejected(
      [&] { return stub_->RemoveRouteHints(Ctx().get(), rm, &rout); },
      StatusCode::INVALID_ARGUMENT, "prefixes[1]");
}

TEST_F(ServiceTest, HintBatchLimit) {
  Create("acme");
  v1::AddRouteHintsRequest req;
  req.set_tenant("acme");
  for (int i = 0; i <= 100000; ++i) {
    v1::RouteHint* h = req.add_hints();
    h->set_prefix("10." + std::to_string(i / 65536) + "." +
                  std::to_string((i / 256) % 256) + "." +
                  std::to_string(i % 256) + "/32");
    h->set_mode(v1::GRO_MODE_MERGE);
  }
  v1::AddRouteHintsResponse out;
  ExpectRejected(
      [&] {
        grpc::ClientContext ctx;
        return stub_->AddRouteHints(&ctx, req, &out);
      },
      StatusCode::RESOURCE_EXHAUSTED, "100000");
  req.mutable_hints()->RemoveLast();
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->AddRouteHints(&ctx, req, &out).ok());
  EXPECT_EQ(out.total(), 100000u);
  EXPECT_EQ(server_->dp().hints("acme").size(), 100000u);
}

TEST_F(ServiceTest, ListHintsPaginatesInStableOrder) {
  Create("acme");
  Create("beta", 11);
  v1::AddRouteHintsResponse out;
  ASSERT_TRUE(stub_
                  ->AddRouteHints(
                      Ctx().get(),
                      AddReq("acme", {"2001:db8::/32", "10.2.0.0/16",
                                      "10.1.0.0/16", "10.1.0.0/24", "::/0"}),
                      &out)
                  .ok());
  v1::ListRouteHintsRequest req;
  req.set_tenant("acme");
  req.set_page_size(2);
  std::vector<std::string> seen;
  v1::ListRouteHintsResponse resp;
  do {
    ASSERT_TRUE(stub_->ListRouteHints(Ctx().get(), req, &resp).ok());
    EXPECT_EQ(resp.total(), 5u);
    for (const auto& h : resp.hints()) seen.push_back(h.prefix());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"10.1.0.0/16", "10.1.0.0/24",
                                      "10.2.0.0/16", "::/0", "2001:db8::/32"}));

  req.set_page_token(resp.next_page_token());
  ASSERT_TRUE(stub_->ListRouteHints(Ctx().get(), req, &resp).ok());
  req.set_page_token(resp.next_page_token());
  req.set_tenant("beta");
  ExpectError(stub_->ListRouteHints(Ctx().get(), req, &resp),
              StatusCode::INVALID_ARGUMENT, "page_token");
  req.set_page_token("");
  req.set_page_size(10001);
  ExpectError(stub_->ListRouteHints(Ctx().get(), req, &resp),
              StatusCode::INVALID_ARGUMENT, "page_size");
  req.set_page_size(0);
  req.set_tenant("nope");
  ExpectError(stub_->ListRouteHints(Ctx().get(), req, &resp),
              StatusCode::NOT_FOUND, "nope");
}

TEST_F(ServiceTest, DeletingTenantDropsHintsAndUnmatched) {
  // Restart the server with a config naming an unmatched tenant.
  server_.reset();
  v1::GrodConfig config;
  *config.add_tenants() = MakeTenant("acme");
  v1::TenantRouteHints* rh = config.add_route_hints();
  rh->set_tenant("acme");
  rh->add_hints()->set_prefix("10.0.0.0/8");
  rh->mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
  config.set_unmatched_tenant("acme");
  ControlPlaneOptions opts;
  opts.state_file = state_file_;
  server_ = std::make_unique<TestServer>(std::move(opts), config);
  stub_ = server_->Stub();
  EXPECT_EQ(server_->dp().unmatched_tenant(), "acme");
  EXPECT_EQ(server_->dp().hints("acme").size(), 1u);

  v1::DeleteTenantRequest del;
  del.set_name("acme");
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteTenant(Ctx().get(), del, &empty).ok());
  EXPECT_EQ(server_->dp().unmatched_tenant(), "");
  EXPECT_TRUE(server_->dp().tenants().empty());
}

}  // namespace
}  // namespace grod::controlplane
