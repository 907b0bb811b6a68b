// grod's persisted state and authorization, end to end: state written
// through grocli survives SIGKILL, corrupt state files stop grod (or are
// moved aside on request), and bearer credentials scope tenants.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/grod/v1/grod.pb.h"
#include "tests/testing/grod_process.h"
#include "tests/testing/proto_json.h"

namespace grod {
namespace {

using ::grod::testing::CommandResult;
using ::grod::testing::GrodProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

std::string TempDir() { return std::getenv("TEST_TMPDIR"); }
std::string TempPath(const std::string& name) { return TempDir() + "/" + name; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

// Names in TempDir() starting with `prefix`.
std::vector<std::string> FilesStartingWith(const std::string& prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(TempDir().c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  closedir(d);
  return names;
}

// Two null ports without traffic (port 0 <-> port 1).
std::string NullDevicesConfig() {
  return testing::TestEalArgsConfig(
             {"net_null0,no-rx=1", "net_null1,no-rx=1"}) +
         "idle_sleep_us: 100\n";
}

std::vector<std::string> TenantNames(const std::string& json) {
  const v1::ListTenantsResponse list =
      testing::ParseJson<v1::ListTenantsResponse>(json);
  std::vector<std::string> names;
  for (const v1::Tenant& t : list.tenants()) names.push_back(t.name());
  return names;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipWhitespace());
}

CommandResult Grocli(const GrodProcess& grod, std::vector<std::string> args,
                     const std::string& token = "") {
  std::vector<std::string> argv = {testing::Runfile("cli/grocli"), "--server",
                                   grod.grpc_target()};
  if (!token.empty()) {
    argv.push_back("--token");
    argv.push_back(token);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv);
}

std::string Ok(const GrodProcess& grod, const std::vector<std::string>& args,
               const std::string& token = "") {
  CommandResult r = Grocli(grod, args, token);
  EXPECT_EQ(r.exit_code, 0) << "grocli " << absl::StrJoin(args, " ")
                            << "\nstdout: " << r.out << "\nstderr: " << r.err;
  return r.out;
}

std::string Fails(const GrodProcess& grod, const std::vector<std::string>& args,
                  const std::string& code, const std::string& token = "") {
  CommandResult r = Grocli(grod, args, token);
  EXPECT_EQ(r.exit_code, 1) << "grocli " << absl::StrJoin(args, " ")
                            << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_THAT(r.err, StartsWith("grocli: " + code + ": "))
      << "grocli " << absl::StrJoin(args, " ");
  return r.err;
}

// Runs grod to completion (for start-ups that must fail): exit code and
// output. A grod that wrongly starts is killed by RunCommand after 60 s and
// reported as -1.
CommandResult RunGrodToExit(const std::string& config_text,
                            const std::vector<std::string>& flags) {
  static int n = 0;
  const std::string path = TempPath("run" + std::to_string(n++) + ".textproto");
  WriteFile(path, config_text +
                      "\ngrpc_listen: \"127.0.0.1:0\"\n"
                      "metrics_listen: \"127.0.0.1:0\"\n");
  std::vector<std::string> argv = {testing::Runfile("grod/grod"),
                                   "--config=" + path};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return testing::RunCommand(argv);
}

// Everything a client can read back about the state.
struct Snapshot {
  std::string tenants_json, acme_json, hints_json, policy_json;
};

Snapshot Read(const GrodProcess& grod) {
  Snapshot s;
  s.tenants_json = Ok(grod, {"tenant", "list", "-o", "json"});
  s.acme_json = Ok(grod, {"tenant", "get", "acme", "-o", "json"});
  s.hints_json = Ok(grod, {"route", "list", "acme", "-o", "json"});
  s.policy_json = Ok(grod, {"policy", "get", "acme", "-o", "json"});
  return s;
}

template <typename M>
void ExpectSameMessage(const std::string& got_json,
                       const std::string& want_json) {
  M got = testing::ParseJson<M>(got_json);
  M want = testing::ParseJson<M>(want_json);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, want))
      << "got:\n"
      << got.DebugString() << "want:\n"
      << want.DebugString();
}

TEST(PersistenceE2eTest, StateSurvivesSigkill) {
  const std::string state = TempPath("kill.state");
  // A config tenant deleted through the API must stay deleted.
  const std::string config =
      NullDevicesConfig() + "state_file: \"" + state + "\"\n" +
      "tenants { name: \"fromconfig\" selectors { port_id: 1 vlan_id: 7 } }\n";

  absl::StatusOr<GrodProcess> grod = GrodProcess::Start(config);
  ASSERT_TRUE(grod.ok()) << grod.status();
  EXPECT_THAT(TenantNames(Ok(*grod, {"tenant", "list", "-o", "json"})),
              ElementsAre("fromconfig"));
  Ok(*grod, {"tenant", "create", "acme", "--selector", "port=0,vlan=100",
             "--selector", "vni=5001", "--mode", "list", "--gro-types",
             "tcp4,udp4", "--max-flows", "1000"});
  Ok(*grod, {"tenant", "create", "blue", "--selector", "port=1", "--flush",
             "timeout", "--flush-timeout", "2ms"});
  Ok(*grod, {"tenant", "create", "gone", "--selector", "vni=9"});
  Ok(*grod, {"route", "add", "acme", "10.0.0.0/8", "list", "10.1.0.0/16",
             "bypass", "2001:db8::/32", "merge", "192.168.7.0/24", "list"});
  Ok(*grod, {"route", "delete", "acme", "192.168.7.0/24"});
  Ok(*grod, {"policy", "set", "acme", "--flush", "adaptive", "--flush-timeout",
             "50us", "--max-segments", "16"});
  Ok(*grod, {"tenant", "update", "blue", "--max-held", "5000"});
  Ok(*grod, {"tenant", "delete", "gone"});
  Ok(*grod, {"tenant", "delete", "fromconfig"});
  const Snapshot before = Read(*grod);
  const v1::ServiceInfo info_before =
      testing::ParseJson<v1::ServiceInfo>(Ok(*grod, {"info", "-o", "json"}));
  const std::string blue_before =
      Ok(*grod, {"tenant", "get", "blue", "-o", "json"});
  EXPECT_THAT(TenantNames(before.tenants_json),
              UnorderedElementsAre("acme", "blue"));

  // An OK reply means the change is on disk: SIGKILL, no chance to save.
  EXPECT_GT(ReadFile(state).size(), 0u);
  absl::StatusOr<int> code = grod->Stop(SIGKILL);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 128 + SIGKILL);

  absl::StatusOr<GrodProcess> again = GrodProcess::Start(config);
  ASSERT_TRUE(again.ok()) << again.status();
  const Snapshot after = Read(*again);
  ExpectSameMessage<v1::ListTenantsResponse>(after.tenants_json,
                                             before.tenants_json);
  ExpectSameMessage<v1::Tenant>(after.acme_json, before.acme_json);
  ExpectSameMessage<v1::Tenant>(
      Ok(*again, {"tenant", "get", "blue", "-o", "json"}), blue_before);
  ExpectSameMessage<v1::ListRouteHintsResponse>(after.hints_json,
                                                before.hints_json);
  ExpectSameMessage<v1::FlushPolicy>(after.policy_json, before.policy_json);
  Fails(*again, {"tenant", "get", "gone"}, "NOT_FOUND");
  Fails(*again, {"tenant", "get", "fromconfig"}, "NOT_FOUND");

  // Spot checks in case both reads were wrong the same way.
  v1::ListRouteHintsResponse hints =
      testing::ParseJson<v1::ListRouteHintsResponse>(after.hints_json);
  std::vector<std::string> prefixes;
  for (const v1::RouteHint& h : hints.hints()) prefixes.push_back(h.prefix());
  EXPECT_THAT(prefixes,
              ElementsAre("10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"));
  v1::FlushPolicy policy =
      testing::ParseJson<v1::FlushPolicy>(after.policy_json);
  EXPECT_EQ(policy.kind(), v1::FLUSH_KIND_ADAPTIVE);
  EXPECT_EQ(policy.timeout().nanos(), 50000);
  EXPECT_EQ(policy.max_segments(), 16u);
  v1::Tenant acme = testing::ParseJson<v1::Tenant>(after.acme_json);
  EXPECT_EQ(acme.default_mode(), v1::GRO_MODE_LIST);
  EXPECT_EQ(acme.quotas().max_flows(), 1000u);
  EXPECT_EQ(acme.selectors_size(), 2);
  EXPECT_EQ(acme.route_hint_count(), 3u);
  v1::ServiceInfo info =
      testing::ParseJson<v1::ServiceInfo>(Ok(*again, {"info", "-o", "json"}));
  EXPECT_EQ(info.tenant_count(), 2u);
  EXPECT_GE(info.config_generation(), info_before.config_generation());

  // The restored state is live in the data plane, not just in memory:
  // selectors conflict and hints can be removed.
  Fails(*again, {"tenant", "create", "dup", "--selector", "port=1"},
        "FAILED_PRECONDITION");
  Ok(*again, {"route", "delete", "acme", "2001:db8::/32"});
  // And further changes persist too (a second SIGKILL cycle).
  ASSERT_TRUE(again->Stop(SIGKILL).ok());
  absl::StatusOr<GrodProcess> third = GrodProcess::Start(config);
  ASSERT_TRUE(third.ok()) << third.status();
  hints = testing::ParseJson<v1::ListRouteHintsResponse>(
      Ok(*third, {"route", "list", "acme", "-o", "json"}));
  prefixes.clear();
  for (const v1::RouteHint& h : hints.hints()) prefixes.push_back(h.prefix());
  EXPECT_THAT(prefixes, ElementsAre("10.0.0.0/8", "10.1.0.0/16"));
  absl::StatusOr<int> term = third->Stop(SIGTERM);
  ASSERT_TRUE(term.ok()) << term.status();
  EXPECT_EQ(*term, 0) << third->log();
}

TEST(PersistenceE2eTest, CorruptStateFile) {
  const std::string state = TempPath("corrupt.state");
  const std::string config = NullDevicesConfig() + "state_file: \"" + state +
                             "\"\n" +
                             "tenants { name: \"fromconfig\" selectors { "
                             "port_id: 1 } }\n";
  // A valid state file with a tenant and hints.
  {
    absl::StatusOr<GrodProcess> grod = GrodProcess::Start(config);
    ASSERT_TRUE(grod.ok()) << grod.status();
    Ok(*grod, {"tenant", "create", "acme", "--selector", "port=0"});
    Ok(*grod,
       {"route", "add", "acme", "10.0.0.0/8", "list", "10.1.0.0/16", "bypass"});
    ASSERT_TRUE(grod->Stop(SIGKILL).ok());
  }
  const std::string good = ReadFile(state);
  ASSERT_GT(good.size(), 8u);

  // Truncated (half, and all but the last byte) and garbage: grod refuses to
  // start, names the file, and leaves it where it is.
  for (const std::string& bad :
       {good.substr(0, good.size() / 2), good.substr(0, good.size() - 1),
        std::string("\xff\xfegarbage\x00\x01", 11), std::string()}) {
    WriteFile(state, bad);
    CommandResult r = RunGrodToExit(config, {});
    EXPECT_NE(r.exit_code, 0) << "state of " << bad.size() << " bytes";
    EXPECT_NE(r.exit_code, -1) << "grod did not exit";
    EXPECT_THAT(r.out + r.err, HasSubstr(state));
    EXPECT_THAT(r.out + r.err, HasSubstr("corrupt"));
    EXPECT_THAT(r.out + r.err, HasSubstr("--discard_corrupt_state"));
    EXPECT_EQ(ReadFile(state), bad) << "the corrupt file was changed";
    EXPECT_THAT(FilesStartingWith("corrupt.state.corrupt-"),
                ::testing::IsEmpty());
  }
  // The same through --state_file instead of the config field.
  WriteFile(state, good.substr(0, good.size() / 2));
  CommandResult r =
      RunGrodToExit(NullDevicesConfig(), {"--state_file=" + state});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, -1) << "grod did not exit";
  EXPECT_THAT(r.out + r.err, HasSubstr(state));

  // --discard_corrupt_state: starts from the config alone, the bad file is
  // kept aside byte for byte.
  const std::string bad = good.substr(0, good.size() / 2);
  WriteFile(state, bad);
  absl::StatusOr<GrodProcess> grod =
      GrodProcess::Start(config, {"--discard_corrupt_state"});
  ASSERT_TRUE(grod.ok()) << grod.status();
  EXPECT_THAT(TenantNames(Ok(*grod, {"tenant", "list", "-o", "json"})),
              ElementsAre("fromconfig"));
  Fails(*grod, {"route", "list", "acme"}, "NOT_FOUND");
  std::vector<std::string> aside = FilesStartingWith("corrupt.state.corrupt-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(ReadFile(TempPath(aside[0])), bad);
  EXPECT_THAT(grod->log(), HasSubstr(TempPath(aside[0])));

  // The new state file is valid again: a change survives SIGKILL without
  // --discard_corrupt_state.
  Ok(*grod, {"tenant", "create", "fresh", "--selector", "port=0"});
  ASSERT_TRUE(grod->Stop(SIGKILL).ok());
  absl::StatusOr<GrodProcess> again = GrodProcess::Start(config);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(TenantNames(Ok(*again, {"tenant", "list", "-o", "json"})),
              UnorderedElementsAre("fromconfig", "fresh"));
  EXPECT_EQ(FilesStartingWith("corrupt.state.corrupt-").size(), 1u);
}

TEST(PersistenceE2eTest, BearerTokenAuthorization) {
  const std::string creds = TempPath("credentials");
  WriteFile(creds,
            "admin:admin-secret-0123456789\nacme:acme-secret-0123456789\n");
  chmod(creds.c_str(), 0600);
  absl::StatusOr<GrodProcess> grod =
      GrodProcess::Start(NullDevicesConfig() +
                         "security { credentials_file: \"" + creds + "\" }\n");
  ASSERT_TRUE(grod.ok()) << grod.status();
  const std::string admin = "admin-secret-0123456789",
                    acme = "acme-secret-0123456789";

  // No or unknown credential.
  Fails(*grod, {"tenant", "list"}, "UNAUTHENTICATED");
  Fails(*grod, {"tenant", "create", "acme", "--selector", "port=0"},
        "UNAUTHENTICATED");
  Fails(*grod, {"tenant", "list"}, "UNAUTHENTICATED", "not-a-secret");
  Fails(*grod, {"tenant", "list"}, "UNAUTHENTICATED", acme + "x");

  Ok(*grod, {"tenant", "create", "acme", "--selector", "port=0"}, admin);
  Ok(*grod, {"tenant", "create", "other", "--selector", "port=1"}, admin);

  // acme may see and change acme only.
  Fails(*grod, {"tenant", "get", "other"}, "PERMISSION_DENIED", acme);
  Fails(*grod, {"tenant", "delete", "other"}, "PERMISSION_DENIED", acme);
  Fails(*grod, {"tenant", "update", "other", "--max-flows", "10"},
        "PERMISSION_DENIED", acme);
  Fails(*grod, {"route", "add", "other", "10.0.0.0/8", "list"},
        "PERMISSION_DENIED", acme);
  Fails(*grod, {"policy", "get", "other"}, "PERMISSION_DENIED", acme);
  Fails(*grod, {"stats", "other"}, "PERMISSION_DENIED", acme);
  Fails(*grod, {"tenant", "create", "acme2", "--selector", "vni=3"},
        "PERMISSION_DENIED", acme);
  EXPECT_THAT(TenantNames(Ok(*grod, {"tenant", "list", "-o", "json"}, acme)),
              ElementsAre("acme"));
  testing::ParseJson<v1::Tenant>(
      Ok(*grod, {"tenant", "get", "acme", "-o", "json"}, acme));
  Ok(*grod, {"route", "add", "acme", "10.0.0.0/8", "list"}, acme);
  Ok(*grod, {"policy", "set", "acme", "--flush", "per-burst"}, acme);
  v1::Stats stats =
      testing::ParseJson<v1::Stats>(Ok(*grod, {"stats", "-o", "json"}, acme));
  ASSERT_EQ(stats.tenants_size(), 1);
  EXPECT_EQ(stats.tenants(0).tenant(), "acme");
  EXPECT_EQ(stats.ports_size(), 0);  // no port counters for tenants

  // The denied delete changed nothing; admin may do everything.
  v1::Tenant other = testing::ParseJson<v1::Tenant>(
      Ok(*grod, {"tenant", "get", "other", "-o", "json"}, admin));
  EXPECT_EQ(other.name(), "other");
  EXPECT_THAT(TenantNames(Ok(*grod, {"tenant", "list", "-o", "json"}, admin)),
              UnorderedElementsAre("acme", "other"));
  stats =
      testing::ParseJson<v1::Stats>(Ok(*grod, {"stats", "-o", "json"}, admin));
  EXPECT_EQ(stats.ports_size(), 2);
  Ok(*grod, {"tenant", "delete", "other"}, admin);
  Fails(*grod, {"tenant", "get", "other"}, "NOT_FOUND", admin);

  // Denials are logged with method and principal, secrets never.
  const std::string log = grod->log();
  EXPECT_THAT(log, HasSubstr("denied /grod.v1.Grod/GetTenant principal=acme"));
  EXPECT_THAT(log,
              HasSubstr("denied /grod.v1.Grod/DeleteTenant principal=acme"));
  EXPECT_THAT(log, Not(HasSubstr(admin)));
  EXPECT_THAT(log, Not(HasSubstr(acme)));
}

}  // namespace
}  // namespace grod
