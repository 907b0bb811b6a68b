// grocli against a real grod on DPDK null devices: every subcommand, its
// table and JSON output, its exit codes, a plain gRPC client, and the live
// /metrics exposition checked by promtool.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/grod/v1/grod.grpc.pb.h"
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

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

// Two null ports without traffic (port 0 <-> port 1).
std::string NullDevicesConfig() {
  return testing::TestEalArgsConfig(
             {"net_null0,no-rx=1", "net_null1,no-rx=1"}) +
         "idle_sleep_us: 100\n";
}

// Non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipWhitespace());
}

// First column of every table row after the header.
std::vector<std::string> FirstColumn(const std::string& table) {
  std::vector<std::string> lines = Lines(table);
  std::vector<std::string> col;
  for (size_t i = 1; i < lines.size(); ++i) {
    col.push_back(std::string(lines[i].substr(0, lines[i].find(' '))));
  }
  return col;
}

class GrocliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<GrodProcess> grod = GrodProcess::Start(NullDevicesConfig());
    ASSERT_TRUE(grod.ok()) << grod.status();
    grod_.emplace(std::move(*grod));
    stub_ = v1::Grod::NewStub(grpc::CreateChannel(
        grod_->grpc_target(), grpc::InsecureChannelCredentials()));
  }

  // grocli --server <grod> ARGS...
  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::Runfile("cli/grocli"), "--server",
                               grod_->grpc_target()});
    return testing::RunCommand(args);
  }

  // Runs grocli expecting exit 0; returns stdout.
  std::string Ok(const std::vector<std::string>& args) {
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << "grocli " << absl::StrJoin(args, " ")
                              << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return r.out;
  }

  // Runs grocli expecting exit 1 with "grocli: CODE: ..." on stderr, then
  // only the violations grod attached ("  field ...", "  quota ...").
  std::string Fails(const std::vector<std::string>& args,
                    const std::string& code) {
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << "grocli " << absl::StrJoin(args, " ")
                              << "\nstdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_THAT(r.err, StartsWith("grocli: " + code + ": "))
        << "grocli " << absl::StrJoin(args, " ");
    const std::vector<std::string> lines = Lines(r.err);
    for (size_t i = 1; i < lines.size(); ++i) {
      EXPECT_TRUE(absl::StartsWith(lines[i], "  field ") ||
                  absl::StartsWith(lines[i], "  quota "))
          << r.err;
    }
    return r.err;
  }

  // `tenant create acme` with every tenant flag set.
  static std::vector<std::string> CreateAcmeArgs() {
    return {"tenant",
            "create",
            "acme",
            "--selector",
            "port=0,vlan=100",
            "--selector",
            "vni=5001",
            "--mode",
            "list",
            "--flush",
            "timeout",
            "--flush-timeout",
            "100us",
            "--gro-types",
            "tcp4,tcp6",
            "--max-flows",
            "1000",
            "--max-held",
            "2000",
            "--max-segments",
            "16",
            "--max-merged-bytes",
            "30000"};
  }
  void CreateAcme() { Ok(CreateAcmeArgs()); }

  std::optional<GrodProcess> grod_;
  std::unique_ptr<v1::Grod::Stub> stub_;
};

TEST_F(GrocliE2eTest, InfoAndPorts) {
  std::string table = Ok({"info"});
  EXPECT_THAT(table, HasSubstr("version"));
  EXPECT_THAT(table, HasSubstr("DPDK"));
  EXPECT_THAT(table, HasSubstr("data plane ready   yes"));

  v1::ServiceInfo info =
      testing::ParseJson<v1::ServiceInfo>(Ok({"info", "-o", "json"}));
  EXPECT_FALSE(info.version().empty());
  EXPECT_THAT(table, HasSubstr(info.version()));
  EXPECT_THAT(info.dpdk_version(), HasSubstr("DPDK"));
  EXPECT_TRUE(info.data_plane_ready());
  EXPECT_EQ(info.main_lcore(), 0u);
  EXPECT_THAT(info.worker_lcores(), ElementsAre(1u));
  EXPECT_EQ(info.tenant_count(), 0u);

  table = Ok({"ports"});
  EXPECT_THAT(FirstColumn(table), ElementsAre("0", "1")) << table;
  EXPECT_THAT(table, HasSubstr("net_null0"));
  EXPECT_THAT(table, HasSubstr("net_null1"));

  v1::ListPortsResponse ports =
      testing::ParseJson<v1::ListPortsResponse>(Ok({"ports", "-o", "json"}));
  ASSERT_EQ(ports.ports_size(), 2);
  EXPECT_EQ(ports.ports(0).name(), "net_null0");
  EXPECT_EQ(ports.ports(0).driver(), "net_null");
  EXPECT_EQ(ports.ports(0).kind(), v1::PORT_KIND_VIRTUAL);
  EXPECT_FALSE(ports.ports(0).consumer().negotiated());  // nothing attached
  EXPECT_EQ(ports.ports(0).peer_port_id(), 1u);
  EXPECT_EQ(ports.ports(1).name(), "net_null1");
  EXPECT_EQ(ports.ports(1).peer_port_id(), 0u);
  EXPECT_EQ(ports.ports(0).rx_queues(), 1u);
}

TEST_F(GrocliE2eTest, TenantCreateGetListUpdateDelete) {
  // create: JSON output is the created tenant with every flag applied.
  std::vector<std::string> create = CreateAcmeArgs();
  create.insert(create.end(), {"-o", "json"});
  v1::Tenant acme = testing::ParseJson<v1::Tenant>(Ok(create));
  EXPECT_EQ(acme.name(), "acme");
  ASSERT_EQ(acme.selectors_size(), 2);
  EXPECT_EQ(acme.selectors(0).port_id(), 0u);
  EXPECT_EQ(acme.selectors(0).vlan_id(), 100u);
  EXPECT_FALSE(acme.selectors(0).has_vni());
  EXPECT_FALSE(acme.selectors(1).has_port_id());
  EXPECT_FALSE(acme.selectors(1).has_vlan_id());
  EXPECT_EQ(acme.selectors(1).vni(), 5001u);
  EXPECT_EQ(acme.default_mode(), v1::GRO_MODE_LIST);
  EXPECT_THAT(acme.gro_types(),
              ElementsAre(v1::GRO_TYPE_TCP4, v1::GRO_TYPE_TCP6));
  EXPECT_EQ(acme.flush_policy().kind(), v1::FLUSH_KIND_TIMEOUT);
  EXPECT_EQ(acme.flush_policy().timeout().seconds(), 0);
  EXPECT_EQ(acme.flush_policy().timeout().nanos(), 100000);
  EXPECT_EQ(acme.flush_policy().max_segments(), 16u);
  EXPECT_EQ(acme.flush_policy().max_merged_bytes(), 30000u);
  EXPECT_EQ(acme.quotas().max_flows(), 1000u);
  EXPECT_EQ(acme.quotas().max_held_packets(), 2000u);
  EXPECT_TRUE(acme.has_create_time());

  // Table output of create (defaults filled in).
  std::string table = Ok({"tenant", "create", "blue", "--selector", "port=1"});
  EXPECT_THAT(table, HasSubstr("blue"));
  EXPECT_THAT(table, HasSubstr("per-burst"));

  // get: table and JSON.
  table = Ok({"tenant", "get", "acme"});
  EXPECT_THAT(table, HasSubstr("port=0,vlan=100 vni=5001"));
  EXPECT_THAT(table, HasSubstr("timeout 100us"));
  EXPECT_THAT(table, HasSubstr("tcp4,tcp6"));
  v1::Tenant got = testing::ParseJson<v1::Tenant>(
      Ok({"tenant", "get", "acme", "-o", "json"}));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, acme))
      << got.DebugString() << "\nvs\n"
      << acme.DebugString();

  // list: table, JSON, and a page size smaller than the tenant count (grocli
  // follows every page).
  EXPECT_THAT(FirstColumn(Ok({"tenant", "list"})),
              UnorderedElementsAre("acme", "blue"));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"tenant", "list", "-o", "json"},
        std::vector<std::string>{"tenant", "list", "--page-size", "1", "-o",
                                 "json"}}) {
    v1::ListTenantsResponse list =
        testing::ParseJson<v1::ListTenantsResponse>(Ok(args));
    std::vector<std::string> names;
    for (const v1::Tenant& t : list.tenants()) names.push_back(t.name());
    EXPECT_THAT(names, UnorderedElementsAre("acme", "blue"))
        << absl::StrJoin(args, " ");
  }
  // The server really paginates at page size 1.
  {
    grpc::ClientContext ctx;
    v1::ListTenantsRequest req;
    req.set_page_size(1);
    v1::ListTenantsResponse resp;
    ASSERT_TRUE(stub_->ListTenants(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.tenants_size(), 1);
    EXPECT_FALSE(resp.next_page_token().empty());
  }

  // update: only max-flows changes.
  v1::Tenant updated = testing::ParseJson<v1::Tenant>(
      Ok({"tenant", "update", "acme", "--max-flows", "2000", "-o", "json"}));
  EXPECT_EQ(updated.quotas().max_flows(), 2000u);
  v1::Tenant want = acme;
  want.mutable_quotas()->set_max_flows(2000);
  want.clear_update_time();
  // An update gives the tenant a new etag (AIP-154).
  want.set_etag(updated.etag());
  EXPECT_NE(updated.etag(), acme.etag());
  v1::Tenant now = testing::ParseJson<v1::Tenant>(
      Ok({"tenant", "get", "acme", "-o", "json"}));
  EXPECT_GE(
      now.update_time().seconds() * 1000000000LL + now.update_time().nanos(),
      acme.update_time().seconds() * 1000000000LL + acme.update_time().nanos());
  now.clear_update_time();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(now, want))
      << now.DebugString() << "\nwant\n"
      << want.DebugString();

  // update of another field through the table output.
  table = Ok({"tenant", "update", "acme", "--mode", "bypass"});
  EXPECT_THAT(table, HasSubstr("bypass"));
  now = testing::ParseJson<v1::Tenant>(
      Ok({"tenant", "get", "acme", "-o", "json"}));
  EXPECT_EQ(now.default_mode(), v1::GRO_MODE_BYPASS);
  EXPECT_EQ(now.quotas().max_flows(), 2000u);
  EXPECT_EQ(now.selectors_size(), 2);
  EXPECT_EQ(now.flush_policy().kind(), v1::FLUSH_KIND_TIMEOUT);

  // Conflicts and bad values.
  Fails({"tenant", "create", "acme", "--selector", "vni=9"}, "ALREADY_EXISTS");
  EXPECT_THAT(Fails({"tenant", "create", "red", "--selector", "port=1"},
                    "FAILED_PRECONDITION"),
              HasSubstr("blue"));
  EXPECT_THAT(Fails({"tenant", "create", "red", "--selector", "port=9"},
                    "INVALID_ARGUMENT"),
              HasSubstr("port_id"));
  EXPECT_THAT(Fails({"tenant", "update", "acme", "--selector", "vlan=5000"},
                    "INVALID_ARGUMENT"),
              HasSubstr("vlan_id"));
  Fails({"tenant", "update", "nope", "--max-flows", "5"}, "NOT_FOUND");

  // delete.
  Ok({"tenant", "delete", "blue"});
  Fails({"tenant", "get", "blue"}, "NOT_FOUND");
  Fails({"tenant", "delete", "blue"}, "NOT_FOUND");
  EXPECT_THAT(FirstColumn(Ok({"tenant", "list"})), ElementsAre("acme"));
  // Its selector is free again.
  Ok({"tenant", "create", "red", "--selector", "port=1"});
  v1::ServiceInfo info =
      testing::ParseJson<v1::ServiceInfo>(Ok({"info", "-o", "json"}));
  EXPECT_EQ(info.tenant_count(), 2u);
}

TEST_F(GrocliE2eTest, RouteAddListDel) {
  CreateAcme();
  std::string out = Ok(
      {"route", "add", "acme", "10.1.0.0/16", "bypass", "10.0.0.0/8", "list"});
  EXPECT_THAT(out, HasSubstr("added 2"));
  const std::string file = TempPath("hints.txt");
  std::ofstream(file) << "# comment line\n"
                      << "192.168.1.0/24 merge\n\n"
                      << "2001:db8::/32 list\n"
                      << "172.16.0.0/12 bypass\n";
  out = Ok({"route", "add", "acme", "--file", file});
  EXPECT_THAT(out, HasSubstr("added 3"));
  EXPECT_THAT(out, HasSubstr("5 route hints"));

  // Listed in prefix order whatever the insertion order.
  std::vector<std::string> want_prefixes = {"10.0.0.0/8", "10.1.0.0/16",
                                            "172.16.0.0/12", "192.168.1.0/24",
                                            "2001:db8::/32"};
  std::string table = Ok({"route", "list", "acme"});
  EXPECT_EQ(FirstColumn(table), want_prefixes) << table;
  EXPECT_THAT(Lines(table), ::testing::Contains(::testing::MatchesRegex(
                                "10\\.1\\.0\\.0/16 +bypass")));

  for (const std::string& page_size : {"", "2", "1"}) {
    std::vector<std::string> args = {"route", "list", "acme", "-o", "json"};
    if (!page_size.empty()) {
      args.push_back("--page-size");
      args.push_back(page_size);
    }
    v1::ListRouteHintsResponse list =
        testing::ParseJson<v1::ListRouteHintsResponse>(Ok(args));
    std::vector<std::string> prefixes;
    for (const v1::RouteHint& h : list.hints()) prefixes.push_back(h.prefix());
    EXPECT_EQ(prefixes, want_prefixes) << "page size " << page_size;
    ASSERT_EQ(list.hints_size(), 5);
    EXPECT_EQ(list.hints(0).mode(), v1::GRO_MODE_LIST);
    EXPECT_EQ(list.hints(1).mode(), v1::GRO_MODE_BYPASS);
    EXPECT_EQ(list.hints(2).mode(), v1::GRO_MODE_BYPASS);
    EXPECT_EQ(list.hints(3).mode(), v1::GRO_MODE_MERGE);
    EXPECT_EQ(list.hints(4).mode(), v1::GRO_MODE_LIST);
  }
  // The server paginates: 2 + 2 + 1 with tokens, same order.
  {
    std::vector<std::string> prefixes;
    std::string token;
    int pages = 0;
    do {
      grpc::ClientContext ctx;
      v1::ListRouteHintsRequest req;
      req.set_tenant("acme");
      req.set_page_size(2);
      req.set_page_token(token);
      v1::ListRouteHintsResponse resp;
      grpc::Status s = stub_->ListRouteHints(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(resp.total(), 5u);
      EXPECT_LE(resp.hints_size(), 2);
      for (const v1::RouteHint& h : resp.hints())
        prefixes.push_back(h.prefix());
      token = resp.next_page_token();
      ASSERT_LT(++pages, 10);
    } while (!token.empty());
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(prefixes, want_prefixes);
  }

  // Re-adding a prefix replaces its mode.
  out = Ok({"route", "add", "acme", "10.0.0.0/8", "merge"});
  EXPECT_THAT(out, HasSubstr("added 0, replaced 1"));
  v1::Tenant t = testing::ParseJson<v1::Tenant>(
      Ok({"tenant", "get", "acme", "-o", "json"}));
  EXPECT_EQ(t.route_hint_count(), 5u);

  // Invalid hints: server-side (host bits) and client-side (mode, file).
  // grod's BadRequest names the field on a line of its own.
  EXPECT_THAT(
      Fails({"route", "add", "acme", "10.0.0.1/8", "list"}, "INVALID_ARGUMENT"),
      HasSubstr("\n  field hints[0].prefix: "));
  EXPECT_EQ(Cli({"route", "add", "acme", "10.0.0.0/8", "fast"}).exit_code, 2);
  std::ofstream(TempPath("bad.txt")) << "10.9.0.0/16 list\n10.8.0.0/16 fast\n";
  // A bad line in --file is the file's fault, not the command line's: 1.
  CommandResult bad =
      Cli({"route", "add", "acme", "--file", TempPath("bad.txt")});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_THAT(bad.err, StartsWith("grocli: " + TempPath("bad.txt") + ":2: "));
  Fails({"route", "add", "nope", "10.0.0.0/8", "list"}, "NOT_FOUND");
  Fails({"route", "list", "nope"}, "NOT_FOUND");

  // delete: a missing prefix fails the whole request unless --allow-missing.
  std::string err = Fails(
      {"route", "delete", "acme", "10.1.0.0/16", "9.9.0.0/16"}, "NOT_FOUND");
  EXPECT_THAT(err, HasSubstr("9.9.0.0/16"));
  EXPECT_EQ(FirstColumn(Ok({"route", "list", "acme"})), want_prefixes);
  out = Ok({"route", "delete", "acme", "10.1.0.0/16", "9.9.0.0/16",
            "--allow-missing"});
  EXPECT_THAT(out, HasSubstr("removed 1"));
  EXPECT_THAT(out, HasSubstr("4 route hints"));
  std::ofstream(TempPath("del.txt")) << "# remove these\n"
                                     << "2001:db8::/32 list\n"
                                     << "172.16.0.0/12\n";
  // "route del" is kept as an alias of "route delete".
  out = Ok({"route", "del", "acme", "--file", TempPath("del.txt")});
  EXPECT_THAT(out, HasSubstr("removed 2"));
  EXPECT_EQ(FirstColumn(Ok({"route", "list", "acme"})),
            (std::vector<std::string>{"10.0.0.0/8", "192.168.1.0/24"}));
  Fails({"route", "delete", "acme", "172.16.0.0/12"}, "NOT_FOUND");

  // Deleting the tenant drops its hints; a new tenant of that name has none.
  Ok({"tenant", "delete", "acme"});
  CreateAcme();
  v1::ListRouteHintsResponse empty =
      testing::ParseJson<v1::ListRouteHintsResponse>(
          Ok({"route", "list", "acme", "-o", "json"}));
  EXPECT_EQ(empty.hints_size(), 0);
}

TEST_F(GrocliE2eTest, PolicySetGet) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  std::string table = Ok({"policy", "get", "acme"});
  EXPECT_THAT(table, HasSubstr("per-burst"));
  v1::FlushPolicy p = testing::ParseJson<v1::FlushPolicy>(
      Ok({"policy", "set", "acme", "--flush", "adaptive", "--flush-timeout",
          "50us", "--max-segments", "16", "-o", "json"}));
  EXPECT_EQ(p.kind(), v1::FLUSH_KIND_ADAPTIVE);
  p = testing::ParseJson<v1::FlushPolicy>(
      Ok({"policy", "get", "acme", "-o", "json"}));
  EXPECT_EQ(p.kind(), v1::FLUSH_KIND_ADAPTIVE);
  EXPECT_EQ(p.timeout().nanos(), 50000);
  EXPECT_EQ(p.max_segments(), 16u);
  EXPECT_EQ(p.max_merged_bytes(), 65535u);
  EXPECT_THAT(Ok({"policy", "get", "acme"}), HasSubstr("adaptive 50us"));
  EXPECT_THAT(Ok({"tenant", "get", "acme"}), HasSubstr("adaptive 50us"));

  EXPECT_THAT(Fails({"policy", "set", "acme", "--flush", "timeout"},
                    "INVALID_ARGUMENT"),
              HasSubstr("policy.timeout"));
  EXPECT_EQ(Cli({"policy", "set", "acme", "--flush", "bogus"}).exit_code, 2);
  Fails({"policy", "get", "nope"}, "NOT_FOUND");
  Fails({"policy", "set", "nope", "--flush", "per-burst"}, "NOT_FOUND");
  EXPECT_THAT(Fails({"policy", "set", "acme", "--flush", "per-burst",
                     "--max-merged-bytes", "524289"},
                    "INVALID_ARGUMENT"),
              HasSubstr("policy.max_merged_bytes"));
  // The failed calls changed nothing.
  p = testing::ParseJson<v1::FlushPolicy>(
      Ok({"policy", "get", "acme", "-o", "json"}));
  EXPECT_EQ(p.kind(), v1::FLUSH_KIND_ADAPTIVE);
  EXPECT_EQ(p.max_merged_bytes(), 65535u);

  // BIG TCP: past 64 KiB, reaching the data plane's tenant.
  p = testing::ParseJson<v1::FlushPolicy>(
      Ok({"policy", "set", "acme", "--flush", "adaptive", "--flush-timeout",
          "50us", "--max-merged-bytes", "262144", "-o", "json"}));
  EXPECT_EQ(p.max_merged_bytes(), 262144u);

  // The old spelling --kind still works, with a warning on stderr.
  CommandResult old = Cli({"policy", "set", "acme", "--kind", "per-burst"});
  EXPECT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(old.err, "grocli: warning: --kind is deprecated, use --flush\n");
  p = testing::ParseJson<v1::FlushPolicy>(
      Ok({"policy", "get", "acme", "-o", "json"}));
  EXPECT_EQ(p.kind(), v1::FLUSH_KIND_PER_BURST);
}

TEST_F(GrocliE2eTest, Stats) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  std::string table = Ok({"stats"});
  EXPECT_THAT(table, HasSubstr("acme"));
  EXPECT_THAT(table, HasSubstr("net_null0"));
  EXPECT_THAT(table, HasSubstr("net_null1"));

  v1::Stats s =
      testing::ParseJson<v1::Stats>(Ok({"stats", "acme", "-o", "json"}));
  ASSERT_EQ(s.tenants_size(), 1);
  EXPECT_EQ(s.tenants(0).tenant(), "acme");
  EXPECT_EQ(s.tenants(0).packets_in(), 0u);
  EXPECT_EQ(s.ports_size(), 2);
  EXPECT_GT(s.config_generation(), 0u);
  Fails({"stats", "nope"}, "NOT_FOUND");

  // --watch --count 2 ends by itself (RunCommand would kill it after 60s and
  // report -1) and prints two blocks / two JSON lines.
  const absl::Time start = absl::Now();
  CommandResult r =
      Cli({"stats", "--watch", "--count", "2", "--interval", "100ms"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  int blocks = 0;
  for (const std::string& line : Lines(r.out)) {
    if (line.rfind("generation ", 0) == 0) ++blocks;
  }
  EXPECT_EQ(blocks, 2) << r.out;

  r = Cli({"stats", "acme", "--watch", "-n", "2", "-i", "100ms", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  for (const std::string& line : lines) {
    v1::Stats each = testing::ParseJson<v1::Stats>(line);
    ASSERT_EQ(each.tenants_size(), 1);
    EXPECT_EQ(each.tenants(0).tenant(), "acme");
  }
  EXPECT_EQ(Cli({"stats", "--count", "2"}).exit_code, 2);  // needs --watch
}

// -o yaml and -o textproto describe what -o json does, read back by
// independent readers (PyYAML, protobuf's text-format parser).
TEST_F(GrocliE2eTest, YamlAndTextprotoOutput) {
  CreateAcme();
  Ok({"route", "add", "acme", "10.0.0.0/8", "list", "2001:db8::/32", "bypass"});
  const std::string json = Ok({"tenant", "list", "-o", "json"});
  const std::string yaml = Ok({"tenant", "list", "-o", "yaml"});
  EXPECT_THAT(yaml, StartsWith("tenants:\n- name: acme\n  selectors:\n"));
  std::ofstream(TempPath("list.json")) << json;
  std::ofstream(TempPath("list.yaml")) << yaml;
  CommandResult py = testing::RunCommand(
      {"/usr/bin/python3", "-c",
       "import json, sys, yaml\n"
       "a = json.load(open(sys.argv[1]))\n"
       "b = yaml.safe_load(open(sys.argv[2]))\n"
       "assert a == b, (a, b)\n"
       "assert b['tenants'][0]['flushPolicy']['timeout'] == '0.000100s'\n",
       TempPath("list.json"), TempPath("list.yaml")});
  EXPECT_EQ(py.exit_code, 0) << py.err << yaml;

  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"tenant", "get", "acme"},
        std::vector<std::string>{"route", "list", "acme"},
        std::vector<std::string>{"policy", "get", "acme"}}) {
    std::vector<std::string> as_json = cmd, as_text = cmd;
    as_json.insert(as_json.end(), {"-o", "json"});
    as_text.insert(as_text.end(), {"-o", "textproto"});
    const std::string j = Ok(as_json), text = Ok(as_text);
    std::unique_ptr<google::protobuf::Message> from_text, from_json;
    if (cmd[0] == "tenant") {
      from_text = std::make_unique<v1::Tenant>();
      from_json =
          std::make_unique<v1::Tenant>(testing::ParseJson<v1::Tenant>(j));
    } else if (cmd[0] == "route") {
      from_text = std::make_unique<v1::ListRouteHintsResponse>();
      from_json = std::make_unique<v1::ListRouteHintsResponse>(
          testing::ParseJson<v1::ListRouteHintsResponse>(j));
    } else {
      from_text = std::make_unique<v1::FlushPolicy>();
      from_json = std::make_unique<v1::FlushPolicy>(
          testing::ParseJson<v1::FlushPolicy>(j));
    }
    ASSERT_TRUE(
        google::protobuf::TextFormat::ParseFromString(text, from_text.get()))
        << text;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_text,
                                                                   *from_json))
        << absl::StrJoin(cmd, " ") << "\n"
        << text;
  }
  EXPECT_THAT(
      Ok({"route", "list", "acme", "-o", "textproto"}),
      HasSubstr("hints {\n  prefix: \"10.0.0.0/8\"\n  mode: GRO_MODE_LIST\n}"));
}

// A file named on the command line that cannot be read fails with exit 1
// (not 2: the line was well formed) and sends nothing.
TEST_F(GrocliE2eTest, UnreadableFilesExitOne) {
  const std::string missing = TempPath("no-such-file");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--token-file", missing, "tenant", "create", "x", "--selector",
            "port=0"},
           {"--ca", missing, "tenant", "create", "x", "--selector", "port=0"},
           {"route", "add", "acme", "--file", missing},
           {"route", "delete", "acme", "--file", missing}}) {
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot read " + missing +
                                 ": No such file or directory"));
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  }
  v1::ServiceInfo info =
      testing::ParseJson<v1::ServiceInfo>(Ok({"info", "-o", "json"}));
  EXPECT_EQ(info.tenant_count(), 0u);
}

// grocli version: grocli's own version and the running grod's, which a
// plain gRPC GetInfo and `grod --version` (another binary) confirm.
TEST_F(GrocliE2eTest, Version) {
  v1::ServiceInfo info;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetInfo(&ctx, {}, &info).ok());
  }
  ASSERT_FALSE(info.version().empty());
  CommandResult grod_version =
      testing::RunCommand({testing::Runfile("grod/grod"), "--version"});
  EXPECT_EQ(grod_version.exit_code, 0);
  EXPECT_EQ(grod_version.out,
            "grod " + info.version() + " (" + info.build() + ")\n");

  const std::string table = Ok({"version"});
  std::vector<std::string> lines = Lines(table);
  ASSERT_EQ(lines.size(), 3u) << table;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("COMPONENT +VERSION +BUILD"));
  // grocli and grod come from the same tree: the same version.
  EXPECT_THAT(lines[1], StartsWith("grocli"));
  EXPECT_THAT(lines[1], HasSubstr(" " + info.version() + " "));
  EXPECT_THAT(lines[2], StartsWith("grod"));
  EXPECT_THAT(lines[2], HasSubstr(" " + info.version() + " "));
  EXPECT_THAT(lines[2], HasSubstr(info.build()));

  const std::string json = Ok({"version", "-o", "json"});
  EXPECT_THAT(json, HasSubstr("\"server\":{\"version\":\"" + info.version() +
                              "\",\"build\":\"" + info.build() + "\"}"));
  EXPECT_THAT(json, HasSubstr("\"client\":{\"version\":\"" + info.version()));

  // --client needs no grod; without it, an unreachable grod still gets
  // grocli's version printed, then exit 3.
  const std::string target = grod_->grpc_target();
  ASSERT_TRUE(grod_->Stop(SIGTERM).ok());
  const std::string grocli = testing::Runfile("cli/grocli");
  CommandResult r = testing::RunCommand(
      {grocli, "--server", target, "version", "--client", "-o", "yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "client:\n  version: \"" + info.version() +
                       "\"\n  build: \"" + info.build() + "\"\n");
  r = testing::RunCommand(
      {grocli, "--server", target, "--deadline", "5s", "version"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("grocli"));
  EXPECT_THAT(r.out, Not(HasSubstr("grod ")));
  EXPECT_THAT(r.err, HasSubstr("cannot reach grod at " + target));
}

TEST_F(GrocliE2eTest, UsageErrorsAndUnreachable) {
  // Usage errors: exit 2, nothing sent.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"tenant", "get", "acme", "--bogus"},
           {"--bogus", "info"},
           {"frobnicate"},
           {"tenant"},
           {"tenant", "get"},
           {"tenant", "get", "a", "b"},
           {"tenant", "create", "x", "--max-flows", "many"},
           {"route", "add", "acme", "10.0.0.0/8"},
           {"route", "delete", "acme"},
           {"route", "del", "acme"},
           {"policy", "set", "acme", "--timeout", "5us"},
           {"info", "-o", "xml"}}) {
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("grocli")) << absl::StrJoin(args, " ");
  }
  EXPECT_EQ(Cli({"info"}).exit_code, 0);
  EXPECT_EQ(Cli({"tenant", "create", "--help"}).exit_code, 0);

  EXPECT_THAT(Fails({"tenant", "get", "nope"}, "NOT_FOUND"), HasSubstr("nope"));
  Fails({"tenant", "delete", "nope"}, "NOT_FOUND");

  // grod gone: exit 3.
  const std::string target = grod_->grpc_target();
  absl::StatusOr<int> code = grod_->Stop(SIGTERM);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << grod_->log();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"info"},
           {"tenant", "list"},
           {"stats", "--watch", "--count", "2"}}) {
    std::vector<std::string> argv = {testing::Runfile("cli/grocli"), "--server",
                                     target, "--deadline", "5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = testing::RunCommand(argv);
    EXPECT_EQ(r.exit_code, 3) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(target));
  }
}

TEST_F(GrocliE2eTest, GrpcInvalidArgumentNamesTheField) {
  {
    grpc::ClientContext ctx;
    v1::CreateTenantRequest req;
    req.mutable_tenant()->set_name("acme");
    req.mutable_tenant()->add_selectors()->set_port_id(0);
    req.mutable_tenant()->add_selectors()->set_vlan_id(5000);
    v1::Tenant resp;
    grpc::Status s = stub_->CreateTenant(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("selectors[1].vlan_id"));
  }
  {
    grpc::ClientContext ctx;
    v1::CreateTenantRequest req;
    req.mutable_tenant()->set_name("Bad_Name");
    req.mutable_tenant()->add_selectors()->set_port_id(0);
    v1::Tenant resp;
    grpc::Status s = stub_->CreateTenant(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("tenant.name"));
  }
  // A failed call changed nothing.
  {
    grpc::ClientContext ctx;
    v1::ListTenantsResponse resp;
    ASSERT_TRUE(stub_->ListTenants(&ctx, {}, &resp).ok());
    EXPECT_EQ(resp.tenants_size(), 0);
  }
  // Valid tenant, then a bad hint among good ones: all-or-nothing.
  {
    grpc::ClientContext ctx;
    v1::CreateTenantRequest req;
    req.mutable_tenant()->set_name("acme");
    req.mutable_tenant()->add_selectors()->set_port_id(0);
    v1::Tenant resp;
    ASSERT_TRUE(stub_->CreateTenant(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    v1::AddRouteHintsRequest req;
    req.set_tenant("acme");
    v1::RouteHint* h = req.add_hints();
    h->set_prefix("10.0.0.0/8");
    h->set_mode(v1::GRO_MODE_LIST);
    h = req.add_hints();
    h->set_prefix("10.1.0.0/33");
    h->set_mode(v1::GRO_MODE_LIST);
    v1::AddRouteHintsResponse resp;
    grpc::Status s = stub_->AddRouteHints(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("hints[1].prefix"));
  }
  {
    grpc::ClientContext ctx;
    v1::AddRouteHintsRequest req;
    req.set_tenant("acme");
    v1::RouteHint* h = req.add_hints();
    h->set_prefix("10.0.0.0/8");
    v1::AddRouteHintsResponse resp;
    grpc::Status s = stub_->AddRouteHints(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("hints[0].mode"));
  }
  {
    grpc::ClientContext ctx;
    v1::ListRouteHintsRequest req;
    req.set_tenant("acme");
    v1::ListRouteHintsResponse resp;
    ASSERT_TRUE(stub_->ListRouteHints(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.hints_size(), 0);
  }
  {
    grpc::ClientContext ctx;
    v1::SetFlushPolicyRequest req;
    req.set_tenant("acme");
    req.mutable_policy()->set_kind(v1::FLUSH_KIND_PER_BURST);
    req.mutable_policy()->set_max_segments(65);
    v1::FlushPolicy resp;
    grpc::Status s = stub_->SetFlushPolicy(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("max_segments"));
  }
}

// grocli apply against the real grod: the printed difference, a dry run
// that changes nothing, the apply (checked with a plain gRPC client), and
// that the same file again changes nothing.
TEST_F(GrocliE2eTest, ApplyDryRunApplyIdempotent) {
  CreateAcme();
  Ok({"route", "add", "acme", "10.0.0.0/8", "list"});
  const std::string file = TempPath("desired.yaml");
  std::ofstream(file) << R"(tenants:
  - name: acme
    selectors: [{port_id: 0, vlan_id: 100}, {vni: 5001}]
    default_mode: GRO_MODE_LIST
    gro_types: [GRO_TYPE_TCP4, GRO_TYPE_TCP6]
    quotas: {max_flows: 1000, max_held_packets: 2000}
    flush_policy:
      kind: FLUSH_KIND_TIMEOUT
      timeout: 0.0002s
      max_segments: 16
      max_merged_bytes: 30000
  - name: blue
    selectors: [{port_id: 1}]
route_hints:
  - tenant: blue
    hints: [{prefix: "2001:db8::/32", mode: GRO_MODE_BYPASS}]
)";
  auto generation = [&] {
    v1::ServiceInfo info;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub_->GetInfo(&ctx, {}, &info).ok());
    return info.config_generation();
  };
  const uint64_t gen = generation();
  const std::string diff =
      "~ tenant acme: flush_policy.timeout: 100us -> 200us\n"
      "+ tenant blue (selectors port=1; mode merge; flush per-burst)\n"
      "- route acme 10.0.0.0/8 list\n"
      "+ route blue 2001:db8::/32 bypass\n";
  EXPECT_EQ(Ok({"apply", "-f", file, "--dry-run"}),
            absl::StrCat(diff, "4 changes (dry run: nothing applied); etag ",
                         gen, " (generation ", gen, ")\n"));
  EXPECT_EQ(generation(), gen);

  EXPECT_EQ(Ok({"apply", "-f", file, "--etag", absl::StrCat(gen)}),
            absl::StrCat(diff, "4 changes applied; etag ", gen + 1,
                         " (generation ", gen + 1, ")\n"));
  v1::ListTenantsResponse list;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ListTenants(&ctx, {}, &list).ok());
  }
  ASSERT_EQ(list.tenants_size(), 2);
  EXPECT_EQ(list.tenants(0).flush_policy().timeout().nanos(), 200'000);
  EXPECT_EQ(list.tenants(0).route_hint_count(), 0u);
  EXPECT_EQ(list.tenants(1).name(), "blue");
  EXPECT_EQ(list.tenants(1).route_hint_count(), 1u);

  EXPECT_EQ(Ok({"apply", "-f", file}),
            absl::StrCat("no changes: grod already has this configuration; "
                         "etag ",
                         gen + 1, " (generation ", gen + 1, ")\n"));
  EXPECT_EQ(generation(), gen + 1);
  // The old etag is stale now.
  Fails({"apply", "-f", file, "--etag", absl::StrCat(gen)}, "ABORTED");
}

TEST_F(GrocliE2eTest, LiveMetricsPassPromtool) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  Ok({"route", "add", "acme", "10.0.0.0/8", "list"});
  absl::StatusOr<std::string> body =
      testing::HttpGet(grod_->metrics_port(), "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  const std::string path = TempPath("metrics.txt");
  std::ofstream(path) << *body;
  CommandResult r = testing::RunCommand(
      {"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + path});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Every grod_tenant_* sample is labelled with its tenant, and acme's
  // families are there.
  std::set<std::string> acme_families;
  for (const std::string& line : Lines(*body)) {
    if (line.rfind("grod_tenant_", 0) != 0) continue;
    EXPECT_THAT(line, HasSubstr("tenant=\"")) << line;
    if (line.find("tenant=\"acme\"") != std::string::npos) {
      acme_families.insert(line.substr(0, line.find('{')));
    }
  }
  EXPECT_TRUE(acme_families.count("grod_tenant_receive_packets_total"))
      << *body;

  // After delete, acme's series are gone.
  Ok({"tenant", "delete", "acme"});
  body = testing::HttpGet(grod_->metrics_port(), "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, Not(HasSubstr("tenant=\"acme\"")));
}

}  // namespace
}  // namespace grod
