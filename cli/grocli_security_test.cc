// grocli's credentials and transport against an in-process grod control
// plane: token files, unix sockets, no token in the clear, mutual TLS.
#include <sys/stat.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/grocli_runner.h"
#include "common/testing/test_certs.h"
#include "controlplane/test_server.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace grod::cli {
namespace {

using controlplane::TestServer;

constexpr char kAdminSecret[] = "admin-secret-0123456789";

// Credentials and a token file for it, both mode 0600.
std::pair<std::string, std::string> CredentialsAndTokenFile(
    const std::string& tag) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string creds = dir + "/" + tag + "-credentials";
  const std::string token = dir + "/" + tag + "-token";
  std::ofstream(creds) << "admin:" << kAdminSecret << "\n";
  std::ofstream(token) << kAdminSecret << "\n";
  chmod(creds.c_str(), 0600);
  chmod(token.c_str(), 0600);
  return {creds, token};
}

TEST(GrocliSecurityTest, TokenFileOverAUnixSocket) {
  // Short path: unix socket paths are limited to 108 bytes.
  const std::string dir = absl::StrCat("/tmp/grocli-test-", getpid());
  const std::string sock = "unix:" + dir + "/grod.sock";
  auto [creds, token] = CredentialsAndTokenFile("unix");
  controlplane::ControlPlaneOptions opts;
  opts.listen_address = sock;
  opts.security.set_credentials_file(creds);
  {
    TestServer server(std::move(opts));
    Result r = RunGrocli({"--server", sock, "--token-file", token, "tenant",
                          "create", "acme", "--selector", "port=0"});
    EXPECT_EQ(r.code, 0) << r.err;
    r = RunGrocli({"tenant", "list", "-o", "json"},
                  {"GROD_SERVER=" + sock, "GROD_TOKEN_FILE=" + token});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(FromJson<v1::ListTenantsResponse>(r.out).tenants_size(), 1);
    r = RunGrocli({"--server", sock, "tenant", "list"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("grocli: UNAUTHENTICATED: ", 0), 0u) << r.err;
    // The existing ways still work.
    r = RunGrocli({"--server", sock, "--token", kAdminSecret, "info"});
    EXPECT_EQ(r.code, 0) << r.err;
  }
  std::filesystem::remove_all(dir);
}

// A token file that cannot be read is a failure (exit 1), not a usage error:
// the command line is well formed. Two token sources on one line are.
TEST(GrocliSecurityTest, TokenFileErrors) {
  auto [creds, token] = CredentialsAndTokenFile("errors");
  Result r = RunGrocli({"--token-file", "/nonexistent/token", "info"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "grocli: --token-file: cannot read /nonexistent/token: No such "
            "file or directory\n");
  r = RunGrocli({"info"}, {"GROD_TOKEN_FILE=/nonexistent/token"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("grocli: GROD_TOKEN_FILE: cannot read ", 0), 0u)
      << r.err;
  const std::string dir = std::getenv("TEST_TMPDIR");
  r = RunGrocli({"--token-file", dir, "info"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Is a directory"), std::string::npos) << r.err;
  r = RunGrocli({"--token", "x", "--token-file", token, "info"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
  const std::string empty = dir + "/empty";
  std::ofstream(empty) << "\n  \n";
  r = RunGrocli({"info"}, {"GROD_TOKEN_FILE=" + empty});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("holds no token"), std::string::npos) << r.err;
}

// grocli will not put a token on the wire in the clear: whatever the token
// source, a non-local server without TLS is a usage error, before any
// connection is made.
TEST(GrocliSecurityTest, NoTokenToANonLocalServerWithoutTls) {
  auto [creds, token] = CredentialsAndTokenFile("remote");
  for (const auto& [args, env] : std::vector<
           std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"--server", "192.0.2.10:50051", "--token-file", token, "info"},
            {}},
           {{"--server", "grod.example:50051", "info"},
            {"GROD_TOKEN_FILE=" + token}},
           {{"info"}, {"GROD_SERVER=[2001:db8::1]:50051", "GROD_TOKEN=abc"}},
       }) {
    Result r = RunGrocli(args, env);
    EXPECT_EQ(r.code, 2) << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_NE(r.err.find("without TLS"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(kAdminSecret), std::string::npos) << r.err;
  }
}

TEST(GrocliSecurityTest, TokenAndMutualTls) {
  auto certs = grod::testing::MakeTestCerts(
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/certs"));
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string creds =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/credentials");
  std::ofstream(creds) << "admin:admin-secret-0123456789\n"
                          "acme:acme-secret-0123456789\n";
  chmod(creds.c_str(), 0600);
  controlplane::ControlPlaneOptions opts;
  opts.security.set_tls_cert_file(certs->server_cert);
  opts.security.set_tls_key_file(certs->server_key);
  opts.security.set_tls_client_ca_file(certs->ca_cert);
  opts.security.set_credentials_file(creds);
  TestServer server(std::move(opts));
  const std::vector<std::string> tls = {
      "--server", server.address(),   "--ca",  certs->ca_cert,
      "--cert",   certs->client_cert, "--key", certs->client_key};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = tls;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  Result r = RunGrocli(with({"--token", "admin-secret-0123456789", "tenant",
                             "create", "acme", "--selector", "port=0"}));
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunGrocli(with({"tenant", "list"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("grocli: UNAUTHENTICATED: ", 0), 0u) << r.err;
  r = RunGrocli(with({"tenant", "create", "beta", "--selector", "port=1"}),
                {"GROD_TOKEN=acme-secret-0123456789"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("grocli: PERMISSION_DENIED: ", 0), 0u) << r.err;
  r = RunGrocli(with({"tenant", "list", "-o", "json"}),
                {"GROD_TOKEN=acme-secret-0123456789"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(FromJson<v1::ListTenantsResponse>(r.out).tenants_size(), 1);

  // Without a client certificate the TLS handshake fails: unreachable.
  r = RunGrocli({"--server", server.address(), "--ca", certs->ca_cert,
                 "--token", "admin-secret-0123456789", "info"});
  EXPECT_EQ(r.code, 3) << r.err;
  // Plaintext against a TLS port: unreachable too.
  r = RunGrocli({"--server", server.address(), "--token",
                 "admin-secret-0123456789", "info"});
  EXPECT_EQ(r.code, 3) << r.err;
  // Unreadable TLS files fail (exit 1) before anything is sent.
  r = RunGrocli({"--server", server.address(), "--ca", "/nonexistent", "info"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err,
            "grocli: --ca: cannot read /nonexistent: No such file or "
            "directory\n");
}

}  // namespace
}  // namespace grod::cli
