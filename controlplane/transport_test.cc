// The gRPC transport through the real server: a unix socket listener (mode,
// group, stale and live socket files), bearer tokens refused from
// non-local plaintext peers, TLS and credentials reloaded while serving,
// and a request with the API's 100000 IPv6 hints.
//
// The binary runs in its own network namespace (main below), where the
// address 192.0.2.10 on its loopback device is a "non-local" peer address:
// no test touches the machine's real interfaces.
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/testing/test_certs.h"
#include "common/testing/wait_for.h"
#include "controlplane/limits.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

constexpr char kAdmin[] = "admin-secret-0123456789";
constexpr char kNonLocalIp[] = "192.0.2.10";

std::string TmpPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::string WriteCreds(const std::string& name, const std::string& text) {
  const std::string path = TmpPath(name);
  std::ofstream(path, std::ios::trunc) << text;
  chmod(path.c_str(), 0600);
  return path;
}

grpc::Status GetInfo(const std::string& target, const std::string& token,
                     std::shared_ptr<grpc::ChannelCredentials> creds =
                         grpc::InsecureChannelCredentials(),
                     const grpc::ChannelArguments& args = {}) {
  auto stub = v1::Grod::NewStub(grpc::CreateCustomChannel(target, creds, args));
  v1::ServiceInfo info;
  auto ctx = Ctx(token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return stub->GetInfo(ctx.get(), {}, &info);
}

// Unix socket paths are limited to 108 bytes, shorter than Bazel's
// TEST_TMPDIR; this directory is removed by the fixture.
class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = absl::StrCat("/tmp/grod-transport-test-", getpid());
    std::filesystem::remove_all(root_);
    socket_ = root_ + "/run/grod.sock";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  ControlPlaneOptions Options() {
    ControlPlaneOptions opts;
    opts.listen_address = "unix:" + socket_;
    opts.unix_socket_mode = 0660;
    opts.unix_socket_group = "4242";
    opts.security.set_credentials_file(
        WriteCreds("unix-credentials", absl::StrCat("admin:", kAdmin, "\n")));
    return opts;
  }

  std::string root_, socket_;
};

TEST_F(UnixSocketTest, ListensWithModeAndGroupAndAcceptsTokens) {
  TestServer server(Options());
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0) << socket_;
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_gid, 4242u);
  ASSERT_EQ(stat((root_ + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u) << "created directory";

  // A unix socket is local: a token over it is fine without TLS.
  EXPECT_TRUE(GetInfo(server.address(), kAdmin).ok());
  EXPECT_EQ(GetInfo(server.address(), "").error_code(),
            StatusCode::UNAUTHENTICATED);

  // A second grod on the same socket is refused; the first keeps serving.
  testing::FakeDataPlane dp;
  auto second = ControlPlane::Create(Options(), &dp);
  ASSERT_TRUE(second.ok());
  absl::Status s = (*second)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("another process serves"), std::string::npos) << s;
  EXPECT_TRUE(GetInfo(server.address(), kAdmin).ok());
}

TEST_F(UnixSocketTest, StaleSocketIsReplacedOtherFilesAreNot) {
  std::filesystem::create_directories(root_ + "/run");
  // A socket file nobody listens on, as a killed grod leaves it.
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  close(fd);
  {
    TestServer server(Options());
    EXPECT_TRUE(GetInfo(server.address(), kAdmin).ok());
  }
  std::filesystem::remove(socket_);
  std::ofstream(socket_) << "not a socket";
  testing::FakeDataPlane dp;
  auto cp = ControlPlane::Create(Options(), &dp);
  ASSERT_TRUE(cp.ok());
  absl::Status s = (*cp)->Start();
  EXPECT_NE(s.message().find("is not a socket"), std::string::npos) << s;
  std::ifstream in(socket_);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "not a socket") << "the file was replaced";
}

TEST(UnixSocketGroupTest, UnknownGroupIsAnError) {
  testing::FakeDataPlane dp;
  ControlPlaneOptions opts;
  opts.listen_address = "unix:/tmp/grod-transport-never.sock";
  opts.unix_socket_group = "no-such-group-grod";
  auto cp = ControlPlane::Create(std::move(opts), &dp);
  ASSERT_FALSE(cp.ok());
  EXPECT_NE(cp.status().message().find("no-such-group-grod"),
            std::string::npos);
}

class PlaintextPeerTest : public ServiceTest {
 protected:
  void SetUp() override {
    ControlPlaneOptions opts;
    opts.listen_address = "0.0.0.0:0";
    opts.security.set_credentials_file(
        WriteCreds("peer-credentials", absl::StrCat("admin:", kAdmin, "\n")));
    server_ = std::make_unique<TestServer>(std::move(opts));
  }
  std::string NonLocal() const {
    return absl::StrCat(kNonLocalIp, ":", server_->cp().port());
  }
};

TEST_F(PlaintextPeerTest, TokenFromNonLocalPeerIsRefused) {
  ::testing::internal::CaptureStderr();
  ExpectError(GetInfo(NonLocal(), kAdmin), StatusCode::UNAUTHENTICATED,
              "use TLS");
  ExpectError(GetInfo(NonLocal(), kAdmin), StatusCode::UNAUTHENTICATED,
              "unix: socket");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find(absl::StrCat("peer=ipv4:", kNonLocalIp)),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(kAdmin), std::string::npos) << "secret logged";
  // Without a token it is simply unauthenticated; from loopback it works.
  ExpectError(GetInfo(NonLocal(), ""), StatusCode::UNAUTHENTICATED,
              "missing credential");
  EXPECT_TRUE(GetInfo(server_->address(), kAdmin).ok());
}

class TlsReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = grod::testing::MakeTestCerts(TmpPath("certs-a"));
    auto b = grod::testing::MakeTestCerts(TmpPath("certs-b"));
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = *a;
    b_ = *b;
    cert_ = TmpPath("live-cert.pem");
    key_ = TmpPath("live-key.pem");
    Install(a_.server_cert, a_.server_key);
  }
  void Install(const std::string& cert, const std::string& key) {
    std::filesystem::copy_file(
        cert, cert_, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(
        key, key_, std::filesystem::copy_options::overwrite_existing);
  }
  // A fresh channel trusting `ca`, naming the server "localhost" (the
  // test certificates' name) whatever address it dials.
  grpc::Status Call(const std::string& target, const std::string& ca,
                    const std::string& token) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = grod::testing::ReadTestFile(ca);
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt("grpc.use_local_subchannel_pool", 1);  // no shared conns
    return GetInfo(target, token, grpc::SslCredentials(o), args);
  }

  grod::testing::TestCerts a_, b_;
  std::string cert_, key_;
};

TEST_F(TlsReloadTest, NewCertificateServedAfterReloadBadOneRefused) {
  ControlPlaneOptions opts;
  opts.listen_address = "0.0.0.0:0";
  opts.security.set_tls_cert_file(cert_);
  opts.security.set_tls_key_file(key_);
  const std::string creds =
      WriteCreds("tls-credentials", absl::StrCat("admin:", kAdmin, "\n"));
  opts.security.set_credentials_file(creds);
  TestServer server(std::move(opts));
  const std::string target = server.address();
  const std::string remote = absl::StrCat(kNonLocalIp, ":", server.cp().port());
  ASSERT_TRUE(Call(target, a_.ca_cert, kAdmin).ok());
  // Over TLS a token from a non-local peer is fine.
  EXPECT_TRUE(Call(remote, a_.ca_cert, kAdmin).ok());
  EXPECT_FALSE(Call(target, b_.ca_cert, kAdmin).ok());

  // A half-done rotation (new certificate, old key) is refused and the old
  // pair keeps serving.
  Install(b_.server_cert, a_.server_key);
  absl::StatusOr<std::string> r = server.cp().Reload();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("security.tls_key_file"),
            std::string::npos)
      << r.status();
  // sleep-ok: checks that nothing changes: the file watcher (1 s period)
  // must refuse the half-done pair too, and it signals nothing when it
  // looks, so the test lets one period pass.
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_TRUE(Call(target, a_.ca_cert, kAdmin).ok());

  // The complete new pair, and new credentials at the same time.
  Install(b_.server_cert, b_.server_key);
  std::ofstream(creds, std::ios::trunc)
      << "admin:new-admin-secret-0123456789\n";
  r = server.cp().Reload();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->find("TLS"), std::string::npos) << *r;
  EXPECT_TRUE(::grod::testing::WaitFor(
      [&] {
        return Call(target, b_.ca_cert, "new-admin-secret-0123456789").ok();
      },
      absl::Seconds(5), absl::Milliseconds(100)))
      << "new certificate not served within 5 s";
  EXPECT_FALSE(Call(target, a_.ca_cert, "new-admin-secret-0123456789").ok())
      << "the old certificate is still served";
  EXPECT_EQ(Call(target, b_.ca_cert, kAdmin).error_code(),
            StatusCode::UNAUTHENTICATED)
      << "the old secret still works";
}

// AddRouteHintsRequest promises 100000 hints; long IPv6 prefixes make that
// more than gRPC's default 4 MiB limit.
TEST_F(ServiceTest, HundredThousandIpv6HintsInOneRequest) {
  Create("big");
  v1::AddRouteHintsRequest req;
  req.set_tenant("big");
  for (int i = 0; i < kMaxHintsPerRequest; ++i) {
    v1::RouteHint* h = req.add_hints();
    h->set_prefix(absl::StrFormat("fd12:3456:789a:bcde:f012:3456:%04x:%04x/128",
                                  i >> 16, i & 0xffff));
    h->set_mode(i % 2 ? v1::GRO_MODE_LIST : v1::GRO_MODE_BYPASS);
  }
  ASSERT_GT(req.ByteSizeLong(), 4u << 20) << "not over gRPC's default";
  v1::AddRouteHintsResponse resp;
  auto ctx = Ctx();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(60));
  grpc::Status s = stub_->AddRouteHints(ctx.get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.added(), static_cast<uint32_t>(kMaxHintsPerRequest));
  EXPECT_EQ(server_->dp().hints("big").size(),
            static_cast<size_t>(kMaxHintsPerRequest));
}

}  // namespace
}  // namespace grod::controlplane

int main(int argc, char** argv) {
  // Before any thread exists, so the whole process is in the namespace.
  if (unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET) (this test needs root)");
    return 1;
  }
  if (std::system("ip link set lo up && ip addr add 192.0.2.10/32 dev lo") !=
      0) {
    std::fprintf(stderr, "cannot set up the test's network namespace\n");
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
