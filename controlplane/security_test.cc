// Authorization (bearer credentials, tenant scoping, denial logging) and
// TLS / mutual TLS on a real socket.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/testing/test_certs.h"
#include "controlplane/auth.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

TEST(AuthorizerTest, ParsesCredentialsFile) {
  auto a = Authorizer::FromText("# comment\nadmin:s3cret\n\nacme:t0ken\n", "f");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE((*a)->enabled());
  auto p = (*a)->Authenticate("Bearer t0ken");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "acme");
  EXPECT_FALSE(p->admin);
  EXPECT_TRUE((*a)->Authenticate("Bearer s3cret")->admin);
  EXPECT_EQ((*a)->Authenticate("Bearer nope").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*a)->Authenticate("t0ken").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*a)->Authenticate(std::nullopt).status().code(),
            absl::StatusCode::kUnauthenticated);

  auto bad = Authorizer::FromText("admin:s3cret\nnocolonsecret\n", "creds");
  EXPECT_EQ(bad.status().message(),
            "credentials file creds line 2: expected name:secret");
  bad = Authorizer::FromText("a:same-secret\nb:same-secret\n", "creds");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("same-secret"), std::string::npos)
      << "errors never echo a secret";
  EXPECT_FALSE(Authorizer::FromText("\n# only comments\n", "creds").ok());
  EXPECT_TRUE(Authorizer().Authenticate(std::nullopt)->admin) << "auth off";
}

class AuthTest : public ServiceTest {
 protected:
  void SetUp() override {
    const std::string creds =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/credentials");
    std::ofstream(creds) << "admin:admin-secret\nacme:acme-secret\n"
                            "beta:beta-secret\n";
    ControlPlaneOptions opts;
    opts.security.set_credentials_file(creds);
    server_ = std::make_unique<TestServer>(std::move(opts));
    stub_ = server_->Stub();
    admin_token_ = "admin-secret";
    for (const char* name : {"acme", "beta"}) {
      v1::CreateTenantRequest req;
      *req.mutable_tenant() = MakeTenant(name, name[0]);
      v1::Tenant t;
      ASSERT_TRUE(stub_->CreateTenant(Ctx("admin-secret").get(), req, &t).ok());
    }
  }
};

TEST_F(AuthTest, MissingOrInvalidCredentialIsUnauthenticated) {
  v1::ServiceInfo info;
  ExpectError(stub_->GetInfo(Ctx().get(), {}, &info),
              StatusCode::UNAUTHENTICATED, "missing credential");
  ExpectError(stub_->GetInfo(Ctx("wrong").get(), {}, &info),
              StatusCode::UNAUTHENTICATED, "invalid credential");
  EXPECT_TRUE(stub_->GetInfo(Ctx("acme-secret").get(), {}, &info).ok());
}

TEST_F(AuthTest, TenantCredentialSeesOnlyItsTenant) {
  const std::string acme = "acme-secret";
  v1::ListTenantsResponse list;
  ASSERT_TRUE(stub_->ListTenants(Ctx(acme).get(), {}, &list).ok());
  ASSERT_EQ(list.tenants_size(), 1);
  EXPECT_EQ(list.tenants(0).name(), "acme");
  ASSERT_TRUE(stub_->ListTenants(Ctx("admin-secret").get(), {}, &list).ok());
  EXPECT_EQ(list.tenants_size(), 2);

  v1::GetTenantRequest get;
  get.set_name("beta");
  v1::Tenant t;
  ExpectError(stub_->GetTenant(Ctx(acme).get(), get, &t),
              StatusCode::PERMISSION_DENIED, "acme");
  get.set_name("acme");
  EXPECT_TRUE(stub_->GetTenant(Ctx(acme).get(), get, &t).ok());

  // Mutations of another tenant are denied and change nothing.
  v1::DeleteTenantRequest del;
  del.set_name("beta");
  google::protobuf::Empty empty;
  ::testing::internal::CaptureStderr();
  const World before = Snapshot();
  ExpectError(stub_->DeleteTenant(Ctx(acme).get(), del, &empty),
              StatusCode::PERMISSION_DENIED, "");
  v1::CreateTenantRequest create;
  *create.mutable_tenant() = MakeTenant("gamma", 99);
  ExpectError(stub_->CreateTenant(Ctx(acme).get(), create, &t),
              StatusCode::PERMISSION_DENIED, "");
  v1::AddRouteHintsRequest add;
  add.set_tenant("beta");
  add.add_hints()->set_prefix("10.0.0.0/8");
  add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
  v1::AddRouteHintsResponse added;
  ExpectError(stub_->AddRouteHints(Ctx(acme).get(), add, &added),
              StatusCode::PERMISSION_DENIED, "");
  EXPECT_TRUE(before == Snapshot());
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("denied /grod.v1.Grod/DeleteTenant principal=acme"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("denied /grod.v1.Grod/AddRouteHints principal=acme"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("acme-secret"), std::string::npos) << "secret logged";

  // Its own tenant it may change.
  add.set_tenant("acme");
  EXPECT_TRUE(stub_->AddRouteHints(Ctx(acme).get(), add, &added).ok());
  del.set_name("acme");
  EXPECT_TRUE(stub_->DeleteTenant(Ctx(acme).get(), del, &empty).ok());
  *create.mutable_tenant() = MakeTenant("acme", 'a');
  EXPECT_TRUE(stub_->CreateTenant(Ctx(acme).get(), create, &t).ok());
}

TEST_F(AuthTest, StatsAreScoped) {
  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx("beta-secret").get(), {}, &stats).ok());
  ASSERT_EQ(stats.tenants_size(), 1);
  EXPECT_EQ(stats.tenants(0).tenant(), "beta");
  EXPECT_EQ(stats.ports_size(), 0) << "ports carry every tenant's traffic";
  v1::GetStatsRequest req;
  req.set_tenant("acme");
  ExpectError(stub_->GetStats(Ctx("beta-secret").get(), req, &stats),
              StatusCode::PERMISSION_DENIED, "");
  ASSERT_TRUE(stub_->GetStats(Ctx("admin-secret").get(), {}, &stats).ok());
  EXPECT_EQ(stats.tenants_size(), 2);
  EXPECT_EQ(stats.ports_size(), 2);

  v1::WatchStatsRequest watch;
  watch.set_tenant("acme");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer beta-secret");
  auto reader = stub_->WatchStats(&ctx, watch);
  EXPECT_FALSE(reader->Read(&stats));
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::PERMISSION_DENIED);
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = grod::testing::MakeTestCerts(
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/certs"));
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
  }
  void Serve(bool mutual) {
    ControlPlaneOptions opts;
    opts.security.set_tls_cert_file(certs_.server_cert);
    opts.security.set_tls_key_file(certs_.server_key);
    if (mutual) opts.security.set_tls_client_ca_file(certs_.ca_cert);
    server_ = std::make_unique<TestServer>(std::move(opts));
  }
  grpc::Status Call(std::shared_ptr<grpc::ChannelCredentials> creds) {
    auto stub =
        v1::Grod::NewStub(grpc::CreateChannel(server_->address(), creds));
    v1::ServiceInfo info;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    return stub->GetInfo(&ctx, {}, &info);
  }
  std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& cert = "",
                                                const std::string& key = "") {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = grod::testing::ReadTestFile(certs_.ca_cert);
    if (!cert.empty()) {
      o.pem_cert_chain = grod::testing::ReadTestFile(cert);
      o.pem_private_key = grod::testing::ReadTestFile(key);
    }
    return grpc::SslCredentials(o);
  }

  grod::testing::TestCerts certs_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(TlsTest, ServerTls) {
  Serve(/*mutual=*/false);
  EXPECT_TRUE(Call(Tls()).ok());
  EXPECT_FALSE(Call(grpc::InsecureChannelCredentials()).ok());
  grpc::SslCredentialsOptions wrong_ca;
  wrong_ca.pem_root_certs = grod::testing::ReadTestFile(certs_.other_ca_cert);
  EXPECT_FALSE(Call(grpc::SslCredentials(wrong_ca)).ok());
}

TEST_F(TlsTest, MutualTls) {
  Serve(/*mutual=*/true);
  EXPECT_TRUE(Call(Tls(certs_.client_cert, certs_.client_key)).ok());
  EXPECT_EQ(Call(Tls()).error_code(), StatusCode::UNAVAILABLE)
      << "a client without a certificate is refused";
  EXPECT_FALSE(
      Call(Tls(certs_.other_client_cert, certs_.other_client_key)).ok())
      << "a certificate from another CA is refused";
}

TEST(ServerCredentialsTest, ConfigErrorsNameTheField) {
  testing::FakeDataPlane dp;
  ControlPlaneOptions opts;
  opts.security.set_tls_cert_file("/nonexistent/cert.pem");
  opts.security.set_tls_key_file("/nonexistent/key.pem");
  auto cp = ControlPlane::Create(std::move(opts), &dp);
  EXPECT_EQ(cp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cp.status().message().find("security.tls_cert_file"),
            std::string::npos)
      << cp.status();
  ControlPlaneOptions half;
  half.security.set_tls_cert_file("/x");
  EXPECT_FALSE(ControlPlane::Create(std::move(half), &dp).ok());
  ControlPlaneOptions creds;
  creds.security.set_credentials_file("/nonexistent/creds");
  EXPECT_FALSE(ControlPlane::Create(std::move(creds), &dp).ok());
}

TEST(ControlPlaneTest, StartFailsOnBusyAddress) {
  testing::FakeDataPlane dp;
  TestServer first;
  ControlPlaneOptions opts;
  opts.listen_address = first.address();
  auto cp = ControlPlane::Create(std::move(opts), &dp);
  ASSERT_TRUE(cp.ok());
  absl::Status s = (*cp)->Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(first.address()), std::string::npos) << s;
}

}  // namespace
}  // namespace grod::controlplane
