// Every RPC x every role, through the real gRPC server on a socket: what
// each credential may do, that a refused call changes nothing, and that a
// tenant credential cannot move its selectors onto another tenant's traffic
// or raise its quotas.
#include <sys/stat.h>

#include <fstream>
#include <functional>

#include "absl/strings/str_cat.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

constexpr char kAdmin[] = "admin-secret-0123456789";
constexpr char kAcme[] = "acme-secret-0123456789";
constexpr char kBeta[] = "beta-secret-0123456789";
constexpr char kDash[] = "dash-secret-0123456789";

// Who calls, and which tenant the call names.
struct Caller {
  const char* label;
  std::string token;
  std::string target;
};

enum Outcome { kOk, kDenied, kUnauthenticated };

struct Expect {
  Outcome admin, own_tenant, other_tenant, read_only;
};

using Call = std::function<grpc::Status(v1::Grod::Stub&, const Caller&)>;

struct Row {
  const char* rpc;
  Call call;
  Expect expect;
  // What PERMISSION_DENIED names when a tenant calls on its own tenant.
  const char* denied_names = "";
};

v1::UpdateTenantRequest Update(const std::string& tenant,
                               std::vector<std::string> paths) {
  v1::UpdateTenantRequest req;
  v1::Tenant* t = req.mutable_tenant();
  t->set_name(tenant);
  t->add_selectors()->set_port_id(0);
  t->mutable_selectors(0)->set_vlan_id(300);
  t->mutable_quotas()->set_max_flows(999);
  t->mutable_quotas()->set_max_held_packets(999);
  t->add_gro_types(v1::GRO_TYPE_TCP4);
  t->set_default_mode(v1::GRO_MODE_LIST);
  t->mutable_flush_policy()->set_kind(v1::FLUSH_KIND_PER_BURST);
  for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
  return req;
}

std::vector<Row> Rows() {
  const Expect everyone{kOk, kOk, kOk, kOk};
  const Expect admin_only{kOk, kDenied, kDenied, kDenied};
  const Expect read{kOk, kOk, kDenied, kOk};
  const Expect tune{kOk, kOk, kDenied, kDenied};
  const Expect shared{kOk, kDenied, kDenied, kOk};
  auto update = [](std::vector<std::string> paths) -> Call {
    return [paths](v1::Grod::Stub& s, const Caller& c) {
      v1::Tenant t;
      return s.UpdateTenant(Ctx(c.token).get(), Update(c.target, paths), &t);
    };
  };
  auto apply = [](bool dry_run) -> Call {
    return [dry_run](v1::Grod::Stub& s, const Caller& c) {
      v1::ApplyConfigRequest req;
      *req.add_tenants() = MakeTenant(c.target, 300);
      v1::TenantRouteHints* rh = req.add_route_hints();
      rh->set_tenant(c.target);
      rh->add_hints()->set_prefix("10.7.0.0/16");
      rh->mutable_hints(0)->set_mode(v1::GRO_MODE_BYPASS);
      req.set_dry_run(dry_run);
      v1::ApplyConfigResponse r;
      return s.ApplyConfig(Ctx(c.token).get(), req, &r);
    };
  };
  return {
      {"GetInfo",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::ServiceInfo r;
         return s.GetInfo(Ctx(c.token).get(), {}, &r);
       },
       everyone},
      {"ListPorts",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::ListPortsResponse r;
         return s.ListPorts(Ctx(c.token).get(), {}, &r);
       },
       shared, "ListPorts"},
      {"CreateTenant",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::CreateTenantRequest req;
         *req.mutable_tenant() = MakeTenant("gamma", 300);
         v1::Tenant r;
         return s.CreateTenant(Ctx(c.token).get(), req, &r);
       },
       admin_only, "admin credential"},
      {"GetTenant",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::GetTenantRequest req;
         req.set_name(c.target);
         v1::Tenant r;
         return s.GetTenant(Ctx(c.token).get(), req, &r);
       },
       read, "GetTenant"},
      {"ListTenants",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::ListTenantsResponse r;
         return s.ListTenants(Ctx(c.token).get(), {}, &r);
       },
       everyone},
      {"UpdateTenant flush_policy", update({"flush_policy"}), tune,
       "UpdateTenant"},
      {"UpdateTenant gro_types", update({"gro_types"}), tune, "UpdateTenant"},
      {"UpdateTenant default_mode", update({"default_mode"}), tune,
       "UpdateTenant"},
      {"UpdateTenant selectors", update({"default_mode", "selectors"}),
       admin_only, "selectors"},
      {"UpdateTenant quotas", update({"quotas"}), admin_only, "quotas"},
      {"UpdateTenant quotas.max_flows", update({"quotas.max_flows"}),
       admin_only, "quotas.max_flows"},
      {"UpdateTenant quotas.max_held_packets",
       update({"quotas.max_held_packets"}), admin_only,
       "quotas.max_held_packets"},
      {"UpdateTenant empty mask", update({}), admin_only, "update_mask"},
      {"DeleteTenant",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::DeleteTenantRequest req;
         req.set_name(c.target);
         google::protobuf::Empty r;
         return s.DeleteTenant(Ctx(c.token).get(), req, &r);
       },
       admin_only, "admin credential"},
      // The set names only the target: applying it would delete the other
      // tenant, so even a tenant's "own" set is an admin's call.
      {"ApplyConfig", apply(false), admin_only, "admin credential"},
      {"ApplyConfig dry_run", apply(true), shared, "ApplyConfig"},
      {"SetFlushPolicy",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::SetFlushPolicyRequest req;
         req.set_tenant(c.target);
         req.mutable_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
         req.mutable_policy()->mutable_timeout()->set_nanos(50000);
         v1::FlushPolicy r;
         return s.SetFlushPolicy(Ctx(c.token).get(), req, &r);
       },
       tune, "SetFlushPolicy"},
      {"GetFlushPolicy",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::GetFlushPolicyRequest req;
         req.set_tenant(c.target);
         v1::FlushPolicy r;
         return s.GetFlushPolicy(Ctx(c.token).get(), req, &r);
       },
       read, "GetFlushPolicy"},
      {"AddRouteHints",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::AddRouteHintsRequest req;
         req.set_tenant(c.target);
         v1::RouteHint* h = req.add_hints();
         h->set_prefix("10.9.0.0/16");
         h->set_mode(v1::GRO_MODE_BYPASS);
         v1::AddRouteHintsResponse r;
         return s.AddRouteHints(Ctx(c.token).get(), req, &r);
       },
       tune, "AddRouteHints"},
      {"RemoveRouteHints",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::RemoveRouteHintsRequest req;
         req.set_tenant(c.target);
         req.add_prefixes("10.1.0.0/16");  // added by SetUpCell
         v1::RemoveRouteHintsResponse r;
         return s.RemoveRouteHints(Ctx(c.token).get(), req, &r);
       },
       tune, "RemoveRouteHints"},
      {"ListRouteHints",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::ListRouteHintsRequest req;
         req.set_tenant(c.target);
         v1::ListRouteHintsResponse r;
         return s.ListRouteHints(Ctx(c.token).get(), req, &r);
       },
       read, "ListRouteHints"},
      {"GetStats tenant",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::GetStatsRequest req;
         req.set_tenant(c.target);
         v1::Stats r;
         return s.GetStats(Ctx(c.token).get(), req, &r);
       },
       read, "GetStats"},
      {"GetStats all",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::Stats r;
         return s.GetStats(Ctx(c.token).get(), {}, &r);
       },
       everyone},
      {"WatchStats tenant",
       [](v1::Grod::Stub& s, const Caller& c) {
         v1::WatchStatsRequest req;
         req.set_tenant(c.target);
         auto ctx = Ctx(c.token);
         auto reader = s.WatchStats(ctx.get(), req);
         v1::Stats r;
         if (reader->Read(&r)) {
           ctx->TryCancel();
           reader->Finish();
           return grpc::Status::OK;
         }
         return reader->Finish();
       },
       read, "WatchStats"},
  };
}

class AuthorizationTest : public ServiceTest {
 protected:
  void SetUp() override {
    creds_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/authz-credentials");
    std::ofstream(creds_) << "admin:" << kAdmin << "\n"
                          << "acme:" << kAcme << "\n"
                          << "beta:" << kBeta << ":tenant\n"
                          << "dash:" << kDash << ":read-only\n";
    chmod(creds_.c_str(), 0600);
    admin_token_ = kAdmin;
    state_file_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/authz.state");
  }

  // A fresh server per cell, so every cell starts from the same state:
  // acme on port 0 VLAN 100, beta on port 0 VLAN 200, each with a hint.
  void SetUpCell() {
    server_.reset();
    std::remove(state_file_.c_str());
    ControlPlaneOptions opts;
    opts.state_file = state_file_;
    opts.security.set_credentials_file(creds_);
    server_ = std::make_unique<TestServer>(std::move(opts));
    stub_ = server_->Stub();
    for (auto [name, vlan] : {std::pair{"acme", 100}, std::pair{"beta", 200}}) {
      v1::CreateTenantRequest req;
      *req.mutable_tenant() = MakeTenant(name, vlan);
      v1::Tenant t;
      ASSERT_TRUE(stub_->CreateTenant(Ctx(kAdmin).get(), req, &t).ok());
      v1::AddRouteHintsRequest add;
      add.set_tenant(name);
      add.add_hints()->set_prefix("10.1.0.0/16");
      add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
      v1::AddRouteHintsResponse r;
      ASSERT_TRUE(stub_->AddRouteHints(Ctx(kAdmin).get(), add, &r).ok());
    }
  }

  void Check(const Row& row, const Caller& caller, Outcome want) {
    SCOPED_TRACE(
        absl::StrCat(row.rpc, " as ", caller.label, " on ", caller.target));
    SetUpCell();
    if (want == kOk) {
      grpc::Status s = row.call(*stub_, caller);
      EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
      return;
    }
    const StatusCode code = want == kDenied ? StatusCode::PERMISSION_DENIED
                                            : StatusCode::UNAUTHENTICATED;
    // A tenant on its own tenant is refused for the field it touched;
    // anyone else for the call itself.
    const bool own = caller.token == kAcme && caller.target == "acme";
    const std::string method(absl::string_view(row.rpc).substr(
        0, absl::string_view(row.rpc).find(' ')));
    ExpectRejected([&] { return row.call(*stub_, caller); }, code,
                   want == kUnauthenticated ? "credential"
                   : own                    ? row.denied_names
                                            : method);
  }

  std::string creds_;
};

TEST_F(AuthorizationTest, EveryRpcForEveryRole) {
  for (const Row& row : Rows()) {
    Check(row, {"admin", kAdmin, "beta"}, row.expect.admin);
    Check(row, {"tenant acme", kAcme, "acme"}, row.expect.own_tenant);
    Check(row, {"tenant acme", kAcme, "beta"}, row.expect.other_tenant);
    Check(row, {"read-only dash", kDash, "beta"}, row.expect.read_only);
    Check(row, {"no credential", "", "beta"}, kUnauthenticated);
    Check(row, {"unknown credential", "not-a-known-secret-at-all", "beta"},
          kUnauthenticated);
  }
}

// The reported bug: acme (port 0 + VLAN 100) set its selector to port 0 +
// VLAN 200 and, being as specific, took beta's VLAN-200 traffic. Now the
// data plane's selectors stay as the admin set them.
TEST_F(AuthorizationTest, TenantCannotTakeAnotherTenantsTraffic) {
  SetUpCell();
  v1::UpdateTenantRequest req;
  req.mutable_tenant()->set_name("acme");
  v1::TrafficSelector* sel = req.mutable_tenant()->add_selectors();
  sel->set_port_id(0);
  sel->set_vlan_id(200);
  sel->set_vni(7);  // more specific than beta's
  req.mutable_update_mask()->add_paths("selectors");
  v1::Tenant t;
  ExpectRejected([&] { return stub_->UpdateTenant(Ctx(kAcme).get(), req, &t); },
                 StatusCode::PERMISSION_DENIED, "update_mask: selectors");
  const std::vector<TrafficSelector> acme_sel =
      server_->dp().tenants().at("acme").selectors;
  ASSERT_EQ(acme_sel.size(), 1u);
  EXPECT_EQ(acme_sel[0].vlan_id, 100);

  req.clear_update_mask();
  req.mutable_update_mask()->add_paths("quotas.max_flows");
  req.mutable_tenant()->mutable_quotas()->set_max_flows(1 << 20);
  ExpectRejected([&] { return stub_->UpdateTenant(Ctx(kAcme).get(), req, &t); },
                 StatusCode::PERMISSION_DENIED,
                 "update_mask: quotas.max_flows");

  // What it may change still works and leaves the selectors alone.
  req.clear_update_mask();
  req.mutable_update_mask()->add_paths("default_mode");
  req.mutable_tenant()->set_default_mode(v1::GRO_MODE_BYPASS);
  ASSERT_TRUE(stub_->UpdateTenant(Ctx(kAcme).get(), req, &t).ok());
  EXPECT_EQ(t.default_mode(), v1::GRO_MODE_BYPASS);
  ASSERT_EQ(t.selectors_size(), 1);
  EXPECT_EQ(t.selectors(0).vlan_id(), 100u);
}

TEST_F(AuthorizationTest, ReadsAreScopedByRole) {
  SetUpCell();
  for (const auto& [token, tenants, ports] :
       {std::tuple{kAdmin, 2, 2}, std::tuple{kDash, 2, 2},
        std::tuple{kAcme, 1, 0}}) {
    SCOPED_TRACE(token);
    v1::ListTenantsResponse list;
    ASSERT_TRUE(stub_->ListTenants(Ctx(token).get(), {}, &list).ok());
    EXPECT_EQ(list.tenants_size(), tenants);
    v1::Stats stats;
    ASSERT_TRUE(stub_->GetStats(Ctx(token).get(), {}, &stats).ok());
    EXPECT_EQ(stats.tenants_size(), tenants);
    EXPECT_EQ(stats.ports_size(), ports) << "ports carry every tenant";
  }
  v1::ListTenantsResponse list;
  ASSERT_TRUE(stub_->ListTenants(Ctx(kAcme).get(), {}, &list).ok());
  EXPECT_EQ(list.tenants(0).name(), "acme");
}

TEST_F(AuthorizationTest, AdminIsNotATenantName) {
  SetUpCell();
  v1::CreateTenantRequest req;
  *req.mutable_tenant() = MakeTenant("admin", 300);
  v1::Tenant t;
  ExpectRejected(
      [&] { return stub_->CreateTenant(Ctx(kAdmin).get(), req, &t); },
      StatusCode::INVALID_ARGUMENT, "tenant.name");
}

}  // namespace
}  // namespace grod::controlplane
