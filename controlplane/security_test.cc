// Authorization (bearer credentials, tenant scoping, denial logging) and
// TLS / mutual TLS on a real socket.
#include <sys/stat.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/testing/test_certs.h"
#include "controlplane/auth.h"
#include "controlplane/peer_address.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

constexpr char kAdmin[] = "admin-secret-0123456789";
constexpr char kAcme[] = "acme-secret-0123456789";
constexpr char kBeta[] = "beta-secret-0123456789";

std::string TmpPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

void WriteCreds(const std::string& path, const std::string& text,
                mode_t mode = 0600) {
  std::ofstream(path, std::ios::trunc) << text;
  chmod(path.c_str(), mode);
}

TEST(AuthorizerTest, ParsesCredentialsFile) {
  auto a = Authorizer::FromText(
      absl::StrCat("# comment\nadmin:", kAdmin, "\n\nacme:", kAcme,
                   "\nalice:alice-secret-0123456789:admin\n"
                   "dash:dash-secret-0123456789:read-only\n"
                   "beta:",
                   kBeta, ":tenant\n"),
      "f");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE((*a)->enabled());
  const auto principal = [&](const std::string& secret) {
    auto p = (*a)->Authenticate("Bearer " + secret);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : Principal{};
  };
  EXPECT_EQ(principal(kAcme).name, "acme");
  EXPECT_EQ(principal(kAcme).role, Role::kTenant);
  EXPECT_EQ(principal(kAdmin).role, Role::kAdmin);
  EXPECT_EQ(principal("alice-secret-0123456789").name, "alice");
  EXPECT_EQ(principal("alice-secret-0123456789").role, Role::kAdmin);
  EXPECT_EQ(principal("dash-secret-0123456789").role, Role::kReadOnly);
  EXPECT_EQ(principal(kBeta).role, Role::kTenant);
  EXPECT_EQ(principal(kBeta).name, "beta");
  for (const std::string& bad :
       {std::string("Bearer nope"), std::string(kAcme),
        absl::StrCat("Bearer ", kAcme, "x"),
        absl::StrCat("Bearer ", std::string(kAcme).substr(1))}) {
    EXPECT_EQ((*a)->Authenticate(bad).status().code(),
              absl::StatusCode::kUnauthenticated)
        << bad;
  }
  EXPECT_EQ((*a)->Authenticate(std::nullopt).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Authorizer().Authenticate(std::nullopt)->role, Role::kAdmin)
      << "auth off";
}

TEST(AuthorizerTest, BadLinesNameFileAndLineNeverTheSecret) {
  const std::string ok = absl::StrCat("admin:", kAdmin, "\n");
  for (const auto& [line, want] :
       std::vector<std::pair<std::string, std::string>>{
           {"nocolonsecret", "expected name:secret"},
           {"acme:short-secret", "at least 16 bytes"},
           {"acme:has:two:colons-0123456789", "expected name:secret"},
           {"acme:acme-secret-0123456789:superuser",
            "unknown role 'superuser'"},
           {"admin:other-secret-0123456789:tenant", "reserved"},
           {"Bad_Tenant:acme-secret-0123456789", "tenant credential"},
           {absl::StrCat("acme:", kAdmin), "same secret as admin"},
       }) {
    auto bad = Authorizer::FromText(ok + line + "\n", "creds");
    ASSERT_FALSE(bad.ok()) << line;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("credentials file creds line 2: "),
              std::string::npos)
        << bad.status();
    EXPECT_NE(bad.status().message().find(want), std::string::npos)
        << bad.status();
    EXPECT_EQ(bad.status().message().find("secret-0123456789"),
              std::string::npos)
        << "errors never echo a secret: " << bad.status();
  }
  EXPECT_FALSE(Authorizer::FromText("\n# only comments\n", "creds").ok());
}

TEST(AuthorizerTest, FileReadableByOthersIsRefused) {
  const std::string path = TmpPath("mode-credentials");
  for (mode_t mode : {0644, 0640, 0604, 0620}) {
    WriteCreds(path, absl::StrCat("admin:", kAdmin, "\n"), mode);
    auto a = Authorizer::FromFile(path);
    ASSERT_FALSE(a.ok()) << std::oct << mode;
    EXPECT_NE(a.status().message().find(path), std::string::npos);
    EXPECT_NE(a.status().message().find("chmod 600"), std::string::npos);
  }
  WriteCreds(path, absl::StrCat("admin:", kAdmin, "\n"), 0400);
  EXPECT_TRUE(Authorizer::FromFile(path).ok());
  WriteCreds(path, absl::StrCat("admin:", kAdmin, "\n"), 0600);
  EXPECT_TRUE(Authorizer::FromFile(path).ok());
}

TEST(AuthorizerTest, ReloadSwapsCredentialsOrKeepsTheOld) {
  const std::string path = TmpPath("reload-credentials");
  WriteCreds(path, absl::StrCat("admin:", kAdmin, "\n"));
  auto a = Authorizer::FromFile(path);
  ASSERT_TRUE(a.ok()) << a.status();
  WriteCreds(path, absl::StrCat("admin:", kBeta, "\n"));
  ASSERT_TRUE((*a)->Reload().ok());
  EXPECT_FALSE((*a)->Authenticate(absl::StrCat("Bearer ", kAdmin)).ok());
  EXPECT_TRUE((*a)->Authenticate(absl::StrCat("Bearer ", kBeta)).ok());
  // A broken file is reported and the credentials in force stay.
  WriteCreds(path, "admin:short\n");
  EXPECT_FALSE((*a)->Reload().ok());
  EXPECT_TRUE((*a)->Authenticate(absl::StrCat("Bearer ", kBeta)).ok());
}

class AuthTest : public ServiceTest {
 protected:
  void SetUp() override {
    const std::string creds = TmpPath("credentials");
    WriteCreds(creds, absl::StrCat("admin:", kAdmin, "\nacme:", kAcme,
                                   "\nbeta:", kBeta, "\n"));
    ControlPlaneOptions opts;
    opts.security.set_credentials_file(creds);
    server_ = std::make_unique<TestServer>(std::move(opts));
    stub_ = server_->Stub();
    admin_token_ = kAdmin;
    for (const char* name : {"acme", "beta"}) {
      v1::CreateTenantRequest req;
      *req.mutable_tenant() = MakeTenant(name, name[0]);
      v1::Tenant t;
      ASSERT_TRUE(stub_->CreateTenant(Ctx(kAdmin).get(), req, &t).ok());
    }
  }
};

TEST_F(AuthTest, MissingOrInvalidCredentialIsUnauthenticated) {
  v1::ServiceInfo info;
  ExpectError(stub_->GetInfo(Ctx().get(), {}, &info),
              StatusCode::UNAUTHENTICATED, "missing credential");
  ExpectError(stub_->GetInfo(Ctx("wrong").get(), {}, &info),
              StatusCode::UNAUTHENTICATED, "invalid credential");
  EXPECT_TRUE(stub_->GetInfo(Ctx(kAcme).get(), {}, &info).ok());
}

TEST_F(AuthTest, TenantCredentialSeesOnlyItsTenant) {
  const std::string acme = kAcme;
  v1::GetTenantRequest get;
  get.set_name("beta");
  v1::Tenant t;
  ExpectError(stub_->GetTenant(Ctx(acme).get(), get, &t),
              StatusCode::PERMISSION_DENIED, "acme");

  // Mutations of another tenant are denied and change nothing.
  v1::DeleteTenantRequest del;
  del.set_name("beta");
  google::protobuf::Empty empty;
  ::testing::internal::CaptureStderr();
  const World before = Snapshot();
  ExpectError(stub_->DeleteTenant(Ctx(acme).get(), del, &empty),
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
  EXPECT_NE(log.find("denied /grod.v1.Grod/DeleteTenant principal=acme "
                     "role=tenant"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("denied /grod.v1.Grod/AddRouteHints principal=acme"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(acme), std::string::npos) << "secret logged";

  // Its own tenant it may tune, but not delete.
  add.set_tenant("acme");
  EXPECT_TRUE(stub_->AddRouteHints(Ctx(acme).get(), add, &added).ok());
  del.set_name("acme");
  ExpectRejected(
      [&] { return stub_->DeleteTenant(Ctx(acme).get(), del, &empty); },
      StatusCode::PERMISSION_DENIED, "admin credential");
}

TEST_F(AuthTest, StatsAreScoped) {
  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx(kBeta).get(), {}, &stats).ok());
  ASSERT_EQ(stats.tenants_size(), 1);
  EXPECT_EQ(stats.tenants(0).tenant(), "beta");
  EXPECT_EQ(stats.ports_size(), 0) << "ports carry every tenant's traffic";
  v1::GetStatsRequest req;
  req.set_tenant("acme");
  ExpectError(stub_->GetStats(Ctx(kBeta).get(), req, &stats),
              StatusCode::PERMISSION_DENIED, "");
  ASSERT_TRUE(stub_->GetStats(Ctx(kAdmin).get(), {}, &stats).ok());
  EXPECT_EQ(stats.tenants_size(), 2);
  EXPECT_EQ(stats.ports_size(), 2);

  v1::WatchStatsRequest watch;
  watch.set_tenant("acme");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kBeta));
  auto reader = stub_->WatchStats(&ctx, watch);
  EXPECT_FALSE(reader->Read(&stats));
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::PERMISSION_DENIED);
}

// A flood of bad tokens leaves a bounded number of log lines, and the next
// line written says how many were suppressed.
TEST_F(AuthTest, DenialLogIsRateLimited) {
  ::testing::internal::CaptureStderr();
  v1::ServiceInfo info;
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(
        stub_->GetInfo(Ctx(absl::StrCat("bad-token-", i)).get(), {}, &info)
            .error_code(),
        StatusCode::UNAUTHENTICATED);
  }
  // sleep-ok: the log budget refills with time (a line per second); the
  // test needs that second to pass to see the suppressed count reported.
  absl::SleepFor(absl::Milliseconds(1100));
  ASSERT_EQ(stub_->GetInfo(Ctx("bad-token-last").get(), {}, &info).error_code(),
            StatusCode::UNAUTHENTICATED);
  const std::string log = ::testing::internal::GetCapturedStderr();
  const std::vector<std::string> lines =
      absl::StrSplit(log, '\n', absl::SkipEmpty());
  int denials = 0;
  for (const std::string& l : lines) {
    if (l.find("denied /grod.v1.Grod/GetInfo") != std::string::npos) ++denials;
  }
  EXPECT_GE(denials, 10) << "the first denials are logged";
  EXPECT_LE(denials, 25) << log;
  EXPECT_NE(lines.back().find("similar lines suppressed"), std::string::npos)
      << lines.back();
}

TEST(PeerAddressTest, LocalPeersAndAddresses) {
  for (const char* peer :
       {"unix:/run/grod/grod.sock", "unix:", "ipv4:127.0.0.1:5000",
        "ipv4:127.9.8.7:1", "ipv6:[::1]:5000", "ipv6:%5B::1%5D:5000",
        "ipv6:[::ffff:127.0.0.1]:80"}) {
    EXPECT_TRUE(IsLocalPeer(peer)) << peer;
  }
  for (const char* peer :
       {"ipv4:192.0.2.10:5000", "ipv4:10.0.0.1:1", "ipv6:[2001:db8::1]:5000",
        "ipv6:[::ffff:10.0.0.1]:80", "ipv4:128.0.0.1:1", "garbage", ""}) {
    EXPECT_FALSE(IsLocalPeer(peer)) << peer;
  }
  for (const char* addr : {"unix:/run/grod/grod.sock", "localhost:50051",
                           "127.0.0.1:50051", "[::1]:50051"}) {
    EXPECT_TRUE(IsLocalAddress(addr)) << addr;
  }
  for (const char* addr : {"10.0.0.5:50051", "grod.example:50051",
                           "0.0.0.0:50051", "[2001:db8::1]:1"}) {
    EXPECT_FALSE(IsLocalAddress(addr)) << addr;
  }
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
