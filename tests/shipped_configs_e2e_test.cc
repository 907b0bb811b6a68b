// Every grod configuration we ship starts the real grod: deploy/*.textproto,
// deploy/*.yaml and *.json (read by grod --check_config), the configs embedded
// in Kubernetes manifests (deploy/k8s/**.yaml), and the
// ```textproto examples in README.md and docs/. Each is checked with
// --check_config as shipped, then started with its devices swapped for
// virtual ones (eal_args rewritten to net_null vdevs, no hugepages, no PCI;
// ports renamed to those vdevs) and its files moved into the test's temp
// dir (state file, TLS material and credentials made up here); it must
// reach SERVING on both health services, answer the --probe the DaemonSet
// uses, and exit cleanly on SIGTERM. The shipped ConfigMap used to pass
// --check_config and then fail at start-up (a tenant without selectors).
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/testing/test_certs.h"
#include "common/testing/wait_for.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/grod/v1/config.pb.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/grod_process.h"

namespace grod::testing {
namespace {

struct ShippedConfig {
  std::string origin;  // file (and block) it came from
  std::string text;
};

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The literal block under "grod.textproto: |" of a Kubernetes manifest.
std::vector<ShippedConfig> FromYaml(const std::string& path) {
  std::vector<ShippedConfig> out;
  std::vector<std::string> lines = absl::StrSplit(Read(path), '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t key = lines[i].find("grod.textproto: |");
    if (key == std::string::npos) continue;
    const size_t indent = key + 2;  // block lines are indented deeper
    std::string text;
    for (++i; i < lines.size(); ++i) {
      const std::string& l = lines[i];
      if (!l.empty() && l.find_first_not_of(' ') < indent) break;
      absl::StrAppend(&text, l.size() > indent ? l.substr(indent) : "", "\n");
    }
    out.push_back({path, text});
  }
  return out;
}

// A config shipped as JSON or YAML (deploy/*.json, deploy/*.yaml): what grod
// reads from it, in text format, as --check_config prints it.
ShippedConfig FromStructured(const std::string& path) {
  CommandResult r =
      RunCommand({Runfile("grod/grod"), "--check_config", "--config=" + path});
  EXPECT_EQ(r.exit_code, 0) << path << ": " << r.err;
  return {path, r.out};
}

// Every ```textproto fenced block of a Markdown file.
std::vector<ShippedConfig> FromMarkdown(const std::string& path) {
  std::vector<ShippedConfig> out;
  std::vector<std::string> lines = absl::StrSplit(Read(path), '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::StripAsciiWhitespace(lines[i]) != "```textproto") continue;
    const size_t first = i + 1;
    std::string text;
    for (++i;
         i < lines.size() &&
         !absl::StartsWith(absl::StripLeadingAsciiWhitespace(lines[i]), "```");
         ++i) {
      absl::StrAppend(&text, lines[i], "\n");
    }
    out.push_back({absl::StrCat(path, " line ", first), text});
  }
  return out;
}

bool IsLocal(const std::string& listen) {
  return absl::StartsWith(listen, "127.") ||
         absl::StartsWith(listen, "[::1]") ||
         absl::StartsWith(listen, "localhost:") ||
         absl::StartsWith(listen, "unix:");
}

class ShippedConfigsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs = MakeTestCerts(absl::StrCat(TempDir(), "/certs"));
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new TestCerts(*certs);
  }
  static std::string TempDir() { return std::getenv("TEST_TMPDIR"); }

  // The config as this machine can run it (see the file comment).
  v1::GrodConfig Rewrite(v1::GrodConfig c, int n) {
    std::map<std::string, std::string> vdev_of;
    std::vector<std::string> vdevs;
    auto rename = [&](std::string* device) {
      if (device->empty()) return;
      auto [it, fresh] = vdev_of.try_emplace(
          *device, absl::StrCat("net_null", vdev_of.size()));
      if (fresh) vdevs.push_back(absl::StrCat(it->second, ",no-rx=1"));
      *device = it->second;
    };
    for (v1::PortConfig& p : *c.mutable_ports()) {
      rename(p.mutable_device());
      rename(p.mutable_peer());
    }
    if (vdevs.empty()) vdevs = {"net_null0,no-rx=1", "net_null1,no-rx=1"};
    std::vector<std::string> eal = TestEalArgs(vdevs);
    for (size_t i = 0; i + 1 < eal.size(); ++i) {
      if (eal[i] == "-m") eal[i + 1] = "768";  // pools of 64Ki mbufs
    }
    c.clear_eal_args();
    for (const std::string& a : eal) c.add_eal_args(a);
    c.set_grpc_listen("127.0.0.1:0");
    // A unix socket example runs on TCP here: its mode and group go too.
    c.mutable_security()->clear_grpc_socket_mode();
    c.mutable_security()->clear_grpc_socket_group();
    c.set_metrics_listen("127.0.0.1:0");
    if (!c.state_file().empty()) {
      c.set_state_file(absl::StrCat(TempDir(), "/state", n, ".binpb"));
    }
    v1::SecurityConfig* sec = c.mutable_security();
    if (!sec->tls_cert_file().empty()) {
      sec->set_tls_cert_file(certs_->server_cert);
      sec->set_tls_key_file(certs_->server_key);
    }
    if (!sec->tls_client_ca_file().empty()) {
      sec->set_tls_client_ca_file(certs_->ca_cert);
    }
    if (!sec->credentials_file().empty()) {
      const std::string creds = absl::StrCat(TempDir(), "/creds", n);
      std::ofstream(creds) << "admin:0123456789abcdef0123456789abcdef\n";
      chmod(creds.c_str(), 0600);
      sec->set_credentials_file(creds);
    }
    if (!sec->metrics_credentials_file().empty()) {
      const std::string creds = absl::StrCat(TempDir(), "/metrics-creds", n);
      std::ofstream(creds) << "prometheus:0123456789abcdef0123456789abcdef\n";
      chmod(creds.c_str(), 0600);
      sec->set_metrics_credentials_file(creds);
    }
    return c;
  }

  static TestCerts* certs_;
};

TestCerts* ShippedConfigsTest::certs_ = nullptr;

std::string Text(const v1::GrodConfig& c) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(c, &out);
  return out;
}

TEST_F(ShippedConfigsTest, EveryShippedConfigStartsServesAndStops) {
  std::vector<ShippedConfig> configs;
  int structured = 0;  // configs shipped as JSON or YAML
  const char* list = std::getenv("SHIPPED_CONFIG_FILES");
  ASSERT_NE(list, nullptr);
  for (absl::string_view f : absl::StrSplit(list, ' ', absl::SkipEmpty())) {
    const std::string path(f);
    const bool manifest = absl::StrContains(path, "deploy/k8s/");
    if (absl::EndsWith(path, ".textproto")) {
      configs.push_back({path, Read(path)});
    } else if (absl::EndsWith(path, ".json") ||
               (!manifest && (absl::EndsWith(path, ".yaml") ||
                              absl::EndsWith(path, ".yml")))) {
      configs.push_back(FromStructured(path));
      ++structured;
    } else if (absl::EndsWith(path, ".yaml")) {
      for (auto& c : FromYaml(path)) configs.push_back(std::move(c));
    } else if (absl::EndsWith(path, ".md")) {
      for (auto& c : FromMarkdown(path)) configs.push_back(std::move(c));
    }
  }
  // deploy/grod.textproto, the ConfigMap, the exposed-tls overlay's
  // ConfigMap and the docs' examples: an extractor that finds nothing must
  // not pass.
  std::map<std::string, int> kinds;
  for (const ShippedConfig& c : configs) {
    for (const char* kind : {".textproto", ".yaml", ".md"}) {
      if (absl::StrContains(c.origin, kind)) kinds[kind]++;
    }
  }
  EXPECT_GE(kinds[".textproto"], 1);
  EXPECT_GE(structured, 1);
  EXPECT_GE(kinds[".yaml"], 2);
  EXPECT_GE(kinds[".md"], 2);

  int n = 0;
  for (const ShippedConfig& shipped : configs) {
    SCOPED_TRACE(shipped.origin);
    ++n;
    v1::GrodConfig parsed;
    ASSERT_TRUE(
        google::protobuf::TextFormat::ParseFromString(shipped.text, &parsed))
        << shipped.text;
    const bool exposed =
        !IsLocal(parsed.grpc_listen().empty() ? "127.0.0.1:50051"
                                              : parsed.grpc_listen());
    // Shipped configs never serve the admin API beyond loopback without
    // TLS and credentials.
    if (exposed) {
      EXPECT_FALSE(parsed.security().tls_cert_file().empty());
      EXPECT_FALSE(parsed.security().credentials_file().empty());
    }
    // As shipped (files it names may not exist here: then only with them
    // made up, below).
    if (!parsed.has_security()) {
      const std::string path = absl::StrCat(TempDir(), "/shipped", n);
      std::ofstream(path) << shipped.text;
      CommandResult r = RunCommand(
          {Runfile("grod/grod"), "--check_config", "--config=" + path});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    const v1::GrodConfig runnable = Rewrite(parsed, n);
    const std::string path = absl::StrCat(TempDir(), "/runnable", n);
    std::ofstream(path) << Text(runnable);
    CommandResult check = RunCommand(
        {Runfile("grod/grod"), "--check_config", "--config=" + path});
    ASSERT_EQ(check.exit_code, 0) << check.err;

    absl::StatusOr<GrodProcess> grod = GrodProcess::Start(Text(runnable));
    ASSERT_TRUE(grod.ok()) << grod.status();
    // Both health services, over the transport the config serves.
    std::shared_ptr<grpc::ChannelCredentials> creds =
        grpc::InsecureChannelCredentials();
    if (!runnable.security().tls_cert_file().empty()) {
      grpc::SslCredentialsOptions o;
      o.pem_root_certs = ReadTestFile(certs_->ca_cert);
      creds = grpc::SslCredentials(o);
    }
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        // ipv4: skips the DNS resolver (c-ares leaks under LeakSanitizer);
        // the test certificate names 127.0.0.1 too.
        absl::StrCat("ipv4:127.0.0.1:", grod->grpc_port()), creds));
    for (const char* service : {"", "grod.v1.Grod"}) {
      grpc::health::v1::HealthCheckResponse resp;
      grpc::Status s;
      testing::WaitFor([&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
        grpc::health::v1::HealthCheckRequest req;
        req.set_service(service);
        s = health->Check(&ctx, req, &resp);
        return !s.ok() ||
               resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      });
      ASSERT_TRUE(s.ok()) << service << ": " << s.error_message();
      EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING)
          << "service '" << service << "'";
    }
    // The DaemonSet's exec probes, on the bound port.
    v1::GrodConfig probe_config = runnable;
    probe_config.set_grpc_listen(absl::StrCat("127.0.0.1:", grod->grpc_port()));
    const std::string probe_path = absl::StrCat(TempDir(), "/probe", n);
    std::ofstream(probe_path) << Text(probe_config);
    // Like kubelet, allow a few failures: readiness may flap while a slow
    // (sanitized, loaded) machine makes a worker miss its liveness beat.
    for (const char* which : {"--probe=live", "--probe=ready"}) {
      CommandResult r;
      testing::WaitFor(
          [&] {
            r = RunCommand(
                {Runfile("grod/grod"), "--config=" + probe_path, which});
            return r.exit_code == 0;
          },
          absl::Seconds(5), absl::Milliseconds(500));
      EXPECT_EQ(r.exit_code, 0) << which << ": " << r.err;
    }
    absl::StatusOr<int> code = grod->Stop(SIGTERM);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << grod->log();
    EXPECT_TRUE(absl::StrContains(grod->log(), "stopped cleanly"))
        << grod->log();
  }
}

}  // namespace
}  // namespace grod::testing
