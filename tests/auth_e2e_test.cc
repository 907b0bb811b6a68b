// Authorization and transport of the real grod binary, seen from outside:
// a hostile tenant credential (read from the credentials file, used through
// a plain gRPC client and through grocli) cannot take another tenant's
// traffic or raise its quotas; SIGHUP swaps credentials (and the TLS
// certificate) while packets keep flowing; the unix socket listener and
// /metrics basic auth; bad credentials files stop grod at start with the file
// and line.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/testing/test_certs.h"
#include "common/testing/wait_for.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "metrics/testing/http_get.h"
#include "proto/grod/v1/grod.grpc.pb.h"
#include "tests/testing/grod_process.h"

namespace grod {
namespace {

using ::grod::testing::GrodProcess;
using ::grod::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdmin[] = "admin-secret-e2e-0123456789";
constexpr char kAcme[] = "acme-secret-e2e-0123456789";
constexpr char kBeta[] = "beta-secret-e2e-0123456789";

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

void WriteFile(const std::string& path, const std::string& text,
               mode_t mode = 0600) {
  std::ofstream(path, std::ios::trunc) << text;
  chmod(path.c_str(), mode);
}

// The secret of `name` as an outside client finds it: in the file.
std::string SecretFromFile(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ':');
    if (f.size() >= 2 && f[0] == name) return f[1];
  }
  ADD_FAILURE() << name << " not in " << path;
  return "";
}

// Endless VLAN-200 TCP traffic on port 0 (beta's), forwarded to a null
// port; tenants as the config gives them.
std::string TrafficConfig(const std::string& creds,
                          const std::string& extra = "") {
  std::vector<std::vector<uint8_t>> frames;
  FlowAddress a;
  a.vlan = 200;
  for (int seg = 0; seg < 64; ++seg) {
    frames.push_back(TcpFrame(a, 1 + seg * 1000, 1000));
  }
  const std::string pcap = TempPath("vlan200.pcap");
  EXPECT_TRUE(WritePcap(pcap, frames).ok());
  return testing::TestEalArgsConfig(
             {"net_pcap0,rx_pcap=" + pcap + ",infinite_rx=1",
              "net_null0,no-rx=1"}) +
         "idle_sleep_us: 100\n"
         "tenants { name: \"acme\" selectors { port_id: 0 vlan_id: 100 } }\n"
         "tenants { name: \"beta\" selectors { vlan_id: 200 } }\n"
         "security { credentials_file: \"" +
         creds + "\" " + extra + "}\n";
}

class Client {
 public:
  explicit Client(const std::string& target)
      : stub_(v1::Grod::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }
  // packets_in of `tenant`, as the admin sees it.
  uint64_t PacketsIn(const std::string& admin, const std::string& tenant) {
    v1::Stats stats;
    grpc::Status s = stub_->GetStats(Ctx(admin).get(), {}, &stats);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::TenantStats& t : stats.tenants()) {
      if (t.tenant() == tenant) return t.packets_in();
    }
    return 0;
  }
  // Whether beta's packets_in grows past `than` within 5 s.
  bool Grows(const std::string& admin, uint64_t than) {
    return WaitFor([&] { return PacketsIn(admin, "beta") > than; },
                   absl::Seconds(5), absl::Milliseconds(100));
  }
  v1::Grod::Stub& operator*() { return *stub_; }
  v1::Grod::Stub* operator->() { return stub_.get(); }

 private:
  std::unique_ptr<v1::Grod::Stub> stub_;
};

testing::CommandResult Grocli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {testing::Runfile("cli/grocli")};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv);
}

// Waits until `grod`'s log has `count` lines containing `text`.
bool WaitForLog(const GrodProcess& grod, const std::string& text,
                int count = 1) {
  return WaitFor(
      [&] {
        const std::string log = grod.log();
        int n = 0;
        for (size_t at = log.find(text); at != std::string::npos;
             at = log.find(text, at + 1)) {
          ++n;
        }
        return n >= count;
      },
      absl::Seconds(10), absl::Milliseconds(50));
}

TEST(AuthE2eTest, HostileTenantCannotTakeAnotherTenantsTraffic) {
  const std::string creds = TempPath("hostile-credentials");
  WriteFile(creds, absl::StrCat("admin:", kAdmin, "\nacme:", kAcme,
                                "\nbeta:", kBeta, ":tenant\n"));
  absl::StatusOr<GrodProcess> grod = GrodProcess::Start(TrafficConfig(creds));
  ASSERT_TRUE(grod.ok()) << grod.status();
  Client client(grod->grpc_target());
  const std::string acme = SecretFromFile(creds, "acme");
  v1::GetTenantRequest get;
  get.set_name("acme");
  v1::Tenant acme_before;
  ASSERT_TRUE(
      client->GetTenant(client.Ctx(kAdmin).get(), get, &acme_before).ok());

  // acme's selector, port 0 + VLAN 200, would be more specific than beta's
  // VLAN 200 and win beta's traffic.
  v1::UpdateTenantRequest steal;
  steal.mutable_tenant()->set_name("acme");
  v1::TrafficSelector* sel = steal.mutable_tenant()->add_selectors();
  sel->set_port_id(0);
  sel->set_vlan_id(200);
  steal.mutable_update_mask()->add_paths("selectors");
  v1::Tenant t;
  grpc::Status s = client->UpdateTenant(client.Ctx(acme).get(), steal, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("update_mask: selectors"));
  steal.clear_update_mask();  // every field
  s = client->UpdateTenant(client.Ctx(acme).get(), steal, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  steal.mutable_update_mask()->add_paths("quotas.max_flows");
  steal.mutable_tenant()->mutable_quotas()->set_max_flows(1 << 20);
  s = client->UpdateTenant(client.Ctx(acme).get(), steal, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("quotas.max_flows"));
  v1::CreateTenantRequest create;
  create.mutable_tenant()->set_name("acme2");
  *create.mutable_tenant()->add_selectors() = *sel;
  s = client->CreateTenant(client.Ctx(acme).get(), create, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::DeleteTenantRequest del;
  del.set_name("beta");
  google::protobuf::Empty empty;
  s = client->DeleteTenant(client.Ctx(acme).get(), del, &empty);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The same through grocli with a token file.
  const std::string token_file = TempPath("acme-token");
  WriteFile(token_file, acme + "\n");
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"tenant", "update", "acme", "--selector",
                                 "port=0,vlan=200"},
        std::vector<std::string>{"tenant", "update", "acme", "--max-flows",
                                 "100000"}}) {
    std::vector<std::string> args = {"--server", grod->grpc_target(),
                                     "--token-file", token_file};
    args.insert(args.end(), cmd.begin(), cmd.end());
    testing::CommandResult r = Grocli(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("grocli: PERMISSION_DENIED: update_mask: "));
  }

  // What acme may change still works.
  testing::CommandResult r =
      Grocli({"--server", grod->grpc_target(), "--token-file", token_file,
              "policy", "set", "acme", "--flush", "per-burst"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // beta keeps its traffic; acme gets none of it.
  ASSERT_TRUE(client->GetTenant(client.Ctx(kAdmin).get(), get, &t).ok());
  ASSERT_EQ(t.selectors_size(), 1);
  EXPECT_EQ(t.selectors(0).vlan_id(), 100u);
  EXPECT_EQ(t.selectors(0).DebugString(),
            acme_before.selectors(0).DebugString());
  EXPECT_EQ(t.quotas().DebugString(), acme_before.quotas().DebugString());
  EXPECT_NE(t.quotas().max_flows(), 1u << 20);
  EXPECT_TRUE(client.Grows(kAdmin, client.PacketsIn(kAdmin, "beta")));
  EXPECT_EQ(client.PacketsIn(kAdmin, "acme"), 0u);
  EXPECT_THAT(grod->log(), Not(HasSubstr(acme)));
}

TEST(AuthE2eTest, SighupReloadsCredentialsWhileForwarding) {
  const std::string creds = TempPath("reload-credentials");
  WriteFile(creds, absl::StrCat("admin:", kAdmin, "\n"));
  absl::StatusOr<GrodProcess> grod = GrodProcess::Start(TrafficConfig(creds));
  ASSERT_TRUE(grod.ok()) << grod.status();
  Client client(grod->grpc_target());
  const uint64_t before = client.PacketsIn(kAdmin, "beta");

  const std::string fresh = "admin-rotated-e2e-0123456789";
  WriteFile(creds, absl::StrCat("admin:", fresh, "\n"));
  ASSERT_EQ(kill(grod->pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(*grod, "SIGHUP: reloaded 1 credentials"))
      << grod->log();
  v1::ServiceInfo info;
  EXPECT_EQ(client->GetInfo(client.Ctx(kAdmin).get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(client->GetInfo(client.Ctx(fresh).get(), {}, &info).ok());
  const uint64_t after = client.PacketsIn(fresh, "beta");
  EXPECT_TRUE(client.Grows(fresh, before)) << "forwarding stopped";

  // A broken file is reported; the rotated secret stays in force.
  WriteFile(creds, "admin:short\n");
  ASSERT_EQ(kill(grod->pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(*grod, "previous ones stay in force")) << grod->log();
  EXPECT_THAT(grod->log(), HasSubstr(creds + " line 1"));
  EXPECT_TRUE(client->GetInfo(client.Ctx(fresh).get(), {}, &info).ok());
  EXPECT_TRUE(client.Grows(fresh, after)) << "forwarding stopped";
  absl::StatusOr<int> code = grod->Stop(SIGTERM);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << grod->log();
}

// A GetInfo over a fresh TLS channel trusting `ca` (the test certificates
// name "localhost").
grpc::Status TlsGetInfo(int port, const std::string& ca,
                        const std::string& token) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = testing::ReadTestFile(ca);
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  auto stub = v1::Grod::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", port), grpc::SslCredentials(o), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ctx.AddMetadata("authorization", "Bearer " + token);
  v1::ServiceInfo info;
  return stub->GetInfo(&ctx, {}, &info);
}

TEST(AuthE2eTest, SighupReloadsTlsCertificate) {
  auto a = testing::MakeTestCerts(TempPath("certs-a"));
  auto b = testing::MakeTestCerts(TempPath("certs-b"));
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string cert = TempPath("live-cert.pem"),
                    key = TempPath("live-key.pem");
  const auto install = [&](const testing::TestCerts& c) {
    WriteFile(cert, testing::ReadTestFile(c.server_cert));
    WriteFile(key, testing::ReadTestFile(c.server_key));
  };
  install(*a);
  const std::string creds = TempPath("tls-credentials");
  WriteFile(creds, absl::StrCat("admin:", kAdmin, "\n"));
  absl::StatusOr<GrodProcess> grod = GrodProcess::Start(TrafficConfig(
      creds, "tls_cert_file: \"" + cert + "\" tls_key_file: \"" + key + "\" "));
  ASSERT_TRUE(grod.ok()) << grod.status();
  ASSERT_TRUE(TlsGetInfo(grod->grpc_port(), a->ca_cert, kAdmin).ok());
  EXPECT_FALSE(TlsGetInfo(grod->grpc_port(), b->ca_cert, kAdmin).ok());

  install(*b);
  ASSERT_EQ(kill(grod->pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(*grod, "TLS certificate and key")) << grod->log();
  EXPECT_TRUE(WaitFor(
      [&] { return TlsGetInfo(grod->grpc_port(), b->ca_cert, kAdmin).ok(); },
      absl::Seconds(5), absl::Milliseconds(100)))
      << "new certificate not served within 5 s";
  EXPECT_FALSE(TlsGetInfo(grod->grpc_port(), a->ca_cert, kAdmin).ok());
  absl::StatusOr<int> code = grod->Stop(SIGTERM);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << grod->log();
}

TEST(AuthE2eTest, UnixSocketAndMetricsBasicAuth) {
  const std::string dir = absl::StrCat("/tmp/grod-auth-e2e-", getpid());
  std::filesystem::remove_all(dir);
  const std::string sock = "unix:" + dir + "/run/grod.sock";
  const std::string creds = TempPath("unix-credentials");
  WriteFile(creds, absl::StrCat("admin:", kAdmin, "\n"));
  const std::string metrics_creds = TempPath("metrics-credentials");
  WriteFile(metrics_creds,
            "prometheus:scrape-secret-e2e-0123456789:read-only\n");
  absl::StatusOr<GrodProcess> grod =
      GrodProcess::Start(TrafficConfig(creds,
                                       "grpc_socket_mode: \"0600\" "
                                       "metrics_credentials_file: \"" +
                                           metrics_creds + "\" ") +
                         "grpc_listen: \"" + sock + "\"\n");
  ASSERT_TRUE(grod.ok()) << grod.status();
  struct stat st;
  ASSERT_EQ(stat((dir + "/run/grod.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string token_file = TempPath("admin-token");
  WriteFile(token_file, std::string(kAdmin) + "\n");
  testing::CommandResult r =
      Grocli({"--server", sock, "--token-file", token_file, "tenant", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("beta"));

  const auto basic = [](const std::string& user, const std::string& pass) {
    return "Authorization: Basic " + absl::Base64Escape(user + ":" + pass) +
           "\r\n";
  };
  auto body = metrics::testing::HttpGet(grod->metrics_port(), "/metrics");
  ASSERT_FALSE(body.ok());
  EXPECT_THAT(body.status().message(), HasSubstr("401"));
  body = metrics::testing::HttpGet(grod->metrics_port(), "/metrics",
                                   basic("prometheus", kAdmin));
  EXPECT_FALSE(body.ok());
  body = metrics::testing::HttpGet(
      grod->metrics_port(), "/metrics",
      basic("prometheus", "scrape-secret-e2e-0123456789"));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("grod_"));
  grod->Stop(SIGTERM).IgnoreError();
  std::filesystem::remove_all(dir);
}

TEST(AuthE2eTest, BadCredentialsFilesStopGrodAtStart) {
  const std::string creds = TempPath("bad-credentials");
  for (const auto& [text, mode, want] :
       std::vector<std::tuple<std::string, mode_t, std::string>>{
           {absl::StrCat("admin:", kAdmin, "\n"), 0644, "chmod 600"},
           {absl::StrCat("admin:", kAdmin, "\nacme:short\n"), 0600, "line 2"},
           {absl::StrCat("admin:", kAdmin, "\nbeta:", kBeta, ":root\n"), 0600,
            "unknown role"},
       }) {
    WriteFile(creds, text, mode);
    const std::string config = TempPath("bad-creds.textproto");
    WriteFile(config, testing::TestEalArgsConfig({"net_null0,no-rx=1"}) +
                          "grpc_listen: \"127.0.0.1:0\"\n"
                          "metrics_listen: \"127.0.0.1:0\"\n"
                          "security { credentials_file: \"" +
                          creds + "\" }\n");
    testing::CommandResult r = testing::RunCommand(
        {testing::Runfile("grod/grod"), "--config=" + config});
    EXPECT_NE(r.exit_code, 0) << want;
    EXPECT_NE(r.exit_code, -1) << "grod did not exit";
    EXPECT_THAT(r.out + r.err, HasSubstr(creds)) << want;
    EXPECT_THAT(r.out + r.err, HasSubstr(want));
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(kAdmin)));
  }
}

}  // namespace
}  // namespace grod
