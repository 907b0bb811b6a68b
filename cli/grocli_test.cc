// Runs the built grocli binary against an in-process grod control plane
// over a FakeDataPlane: every subcommand, -o json, and the exit codes.
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
#include "cli/version_info.pb.h"
#include "common/testing/test_certs.h"
#include "controlplane/prefix.h"
#include "controlplane/test_server.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace grod::cli {
namespace {

using controlplane::ParseIpPrefix;
using controlplane::TestServer;

// PyYAML (an independent reader) loads the YAML documents in `yaml` to the
// same data json.loads gives for the lines of `json_lines`, ignoring the
// top-level keys in `volatile_keys` (clocks that move between two calls).
bool YamlMatchesJson(const std::string& yaml, const std::string& json_lines,
                     const std::string& volatile_keys = "") {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/out.yaml") << yaml;
  std::ofstream(dir + "/out.json") << json_lines;
  const std::string cmd = absl::StrCat(
      "python3 -c 'import json, sys, yaml\n"
      "drop = sys.argv[3].split(\",\")\n"
      "def clean(d): return {k: v for k, v in d.items() if k not in drop}\n"
      "a = [clean(json.loads(l)) for l in open(sys.argv[1]) if l.strip()]\n"
      "b = [clean(d) for d in yaml.safe_load_all(open(sys.argv[2]))]\n"
      "sys.exit(0 if a == b else print(a, b, sep=\"\\n\") or 1)' ",
      dir, "/out.json ", dir, "/out.yaml '", volatile_keys, "'");
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

// protobuf's text-format parser reads `text` as the message JSON describes.
template <typename T>
bool TextprotoMatchesJson(const std::string& text, const std::string& json) {
  T from_text;
  if (!google::protobuf::TextFormat::ParseFromString(text, &from_text)) {
    return false;
  }
  T from_json = FromJson<T>(json);
  if constexpr (std::is_same_v<T, v1::Tenant>) {  // updates move them
    from_text.clear_update_time();
    from_json.clear_update_time();
    from_text.clear_etag();
    from_json.clear_etag();
  }
  return google::protobuf::util::MessageDifferencer::Equals(from_text,
                                                            from_json);
}

class GrocliTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<TestServer>(); }
  // Runs against the test server via --server.
  Result Run(std::vector<std::string> args,
             const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--server", server_->address()});
    return RunGrocli(args, {}, stdin_text);
  }
  Result Ok(std::vector<std::string> args, const std::string& stdin_text = "") {
    Result r = Run(args, stdin_text);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    return r;
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(GrocliTest, InfoAndPorts) {
  Result r = Ok({"info"});
  EXPECT_NE(r.out.find("test-version"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("data plane ready   yes"), std::string::npos) << r.out;
  auto info = FromJson<v1::ServiceInfo>(Ok({"info", "-o", "json"}).out);
  EXPECT_EQ(info.dpdk_version(), "DPDK 22.11.0-fake");
  r = Ok({"ports"});
  EXPECT_NE(r.out.find("net_fake1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("udp-tso"), std::string::npos);
  auto ports = FromJson<v1::ListPortsResponse>(Ok({"-o", "json", "ports"}).out);
  ASSERT_EQ(ports.ports_size(), 2);
  EXPECT_EQ(ports.ports(1).peer_port_id(), 0u);
}

// Each port's kind and what its consumer negotiated: an AF_XDP port has no
// negotiation, a vhost-user guest shows its virtio-net features, a vhost-user
// port with no guest attached says so.
TEST_F(GrocliTest, PortKindsAndConsumers) {
  std::vector<PortInfo> ports = server_->dp().Ports();
  ports[0].kind = PortKind::kAfXdp;
  ports[1].kind = PortKind::kVhostUser;
  ports[1].consumer = {.negotiated = true,
                       .tso4 = true,
                       .tso6 = false,
                       .uso = false,
                       .checksum = true,
                       .mergeable_rx_buffers = true};
  server_->dp().SetPorts(ports);
  Result r = Ok({"ports"});
  EXPECT_NE(r.out.find("af_xdp"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vhost-user"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("guest:tso4,csum,mrg-rxbuf"), std::string::npos)
      << r.out;
  auto json = FromJson<v1::ListPortsResponse>(Ok({"-o", "json", "ports"}).out);
  EXPECT_EQ(json.ports(0).kind(), v1::PORT_KIND_AF_XDP);
  EXPECT_EQ(json.ports(1).kind(), v1::PORT_KIND_VHOST_USER);
  EXPECT_TRUE(json.ports(1).consumer().tso4());
  EXPECT_FALSE(json.ports(1).consumer().tso6());
  EXPECT_TRUE(json.ports(1).consumer().mergeable_rx_buffers());

  ports[1].consumer = {};
  server_->dp().SetPorts(ports);
  r = Ok({"ports"});
  EXPECT_NE(r.out.find("detached"), std::string::npos) << r.out;
}

TEST_F(GrocliTest, TenantLifecycle) {
  Ok({"tenant", "create", "acme", "--selector", "port=0,vlan=100", "--selector",
      "port=1,vlan=100", "--mode", "list", "--flush", "timeout",
      "--flush-timeout", "200us", "--gro-types", "tcp4,udp4", "--max-flows",
      "1000"});
  auto spec = server_->dp().tenant("acme");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->selectors.size(), 2u);
  EXPECT_EQ(spec->default_mode, GroMode::kList);
  EXPECT_EQ(spec->flush.timeout_ns, 200000u);
  EXPECT_EQ(spec->gro_types, kGroTcp4 | kGroUdp4);
  EXPECT_EQ(spec->max_flows, 1000u);

  auto t =
      FromJson<v1::Tenant>(Ok({"tenant", "get", "acme", "-o", "json"}).out);
  EXPECT_EQ(t.name(), "acme");
  EXPECT_EQ(t.flush_policy().timeout().nanos(), 200000);

  Ok({"tenant", "create", "beta", "--selector", "vni=5001"});
  Result r = Ok({"tenant", "list"});
  EXPECT_NE(r.out.find("acme"), std::string::npos);
  EXPECT_NE(r.out.find("port=0,vlan=100 port=1,vlan=100"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("timeout 200us"), std::string::npos) << r.out;
  auto list = FromJson<v1::ListTenantsResponse>(
      Ok({"tenant", "list", "--page-size", "1", "-o", "json"}).out);
  ASSERT_EQ(list.tenants_size(), 2) << "all pages followed";

  // Update changes only what is given; flush flags keep the other fields.
  Ok({"tenant", "update", "acme", "--max-segments", "8"});
  spec = server_->dp().tenant("acme");
  EXPECT_EQ(spec->flush.max_segments, 8u);
  EXPECT_EQ(spec->flush.timeout_ns, 200000u);
  EXPECT_EQ(spec->max_flows, 1000u);
  // Each flag is its own nested mask path: switching to per-burst clears
  // the timeout and keeps max_segments.
  Ok({"tenant", "update", "acme", "--flush", "per-burst"});
  spec = server_->dp().tenant("acme");
  EXPECT_EQ(spec->flush.kind, FlushKind::kPerBurst);
  EXPECT_EQ(spec->flush.max_segments, 8u);

  r = Ok({"tenant", "delete", "beta"});
  EXPECT_EQ(r.out, "deleted tenant beta\n");
  EXPECT_FALSE(server_->dp().tenant("beta").has_value());
}

TEST_F(GrocliTest, RoutesFromArgsFileAndStdin) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  Result r = Ok({"route", "add", "acme", "10.0.0.0/8", "list", "2001:db8::/32",
                 "bypass"});
  EXPECT_EQ(r.out, "added 2, replaced 0; tenant acme has 2 route hints\n");
  const std::string file = std::string(std::getenv("TEST_TMPDIR")) + "/hints";
  std::ofstream(file) << "# hints\n10.1.0.0/16 merge\n10.0.0.0/8 merge\n";
  auto added = FromJson<v1::AddRouteHintsResponse>(
      Ok({"route", "add", "acme", "--file", file, "-o", "json"}).out);
  EXPECT_EQ(added.added(), 1u);
  EXPECT_EQ(added.replaced(), 1u);
  Ok({"route", "add", "acme", "-f", "-"}, "192.168.0.0/16 list\n");
  EXPECT_EQ(server_->dp().hints("acme").size(), 4u);
  EXPECT_EQ(server_->dp().hints("acme").at(*ParseIpPrefix("10.0.0.0/8")),
            GroMode::kMerge);

  r = Ok({"route", "list", "acme"});
  EXPECT_EQ(r.out,
            "PREFIX          MODE\n"
            "10.0.0.0/8      merge\n"
            "10.1.0.0/16     merge\n"
            "192.168.0.0/16  list\n"
            "2001:db8::/32   bypass\n");
  auto list = FromJson<v1::ListRouteHintsResponse>(
      Ok({"route", "list", "acme", "--page-size", "3", "-o", "json"}).out);
  EXPECT_EQ(list.hints_size(), 4);

  r = Run({"route", "delete", "acme", "10.0.0.0/8", "172.16.0.0/12"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "grocli: NOT_FOUND: prefixes[1]: 172.16.0.0/12 is not a route "
            "hint of tenant acme\n");
  EXPECT_EQ(server_->dp().hints("acme").size(), 4u) << "all-or-nothing";
  r = Ok({"route", "delete", "acme", "10.0.0.0/8", "172.16.0.0/12",
          "--allow-missing"});
  EXPECT_EQ(r.out, "removed 1; tenant acme has 3 route hints\n");
  // "route del" is an alias of "route delete".
  Ok({"route", "del", "acme", "--file", file, "--allow-missing"});
  EXPECT_EQ(server_->dp().hints("acme").size(), 2u);

  // A --file that cannot be read, or holds a bad line, fails (exit 1), not
  // a usage error, and sends nothing.
  r = Run({"route", "add", "acme", "--file", file + ".missing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "grocli: --file: cannot read " + file +
                       ".missing: No such file or directory\n");
  r = Run({"route", "delete", "acme", "--file", "/"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "grocli: --file: cannot read /: Is a directory\n");
  std::ofstream(file) << "172.16.0.0/12 list\n10.9.0.0/16 fast\n";
  r = Run({"route", "add", "acme", "--file", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("grocli: " + file + ":2: ", 0), 0u) << r.err;
  EXPECT_EQ(server_->dp().hints("acme").size(), 2u);

  r = Run({"route", "add", "acme", "10.0.0.1/8", "list"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("grocli: INVALID_ARGUMENT: hints[0].prefix: ", 0), 0u)
      << r.err;
}

// With -o json|yaml|textproto a failed call prints the server's whole
// google.rpc.Status to stderr in that format (stdout stays empty), so a
// program reads the field violations without parsing the message.
TEST_F(GrocliTest, ErrorDetailsFollowTheOutputFormat) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  const std::vector<std::string> bad = {
      "policy", "set", "acme", "--flush", "timeout", "--flush-timeout", "20s"};
  std::vector<std::string> args = {"-o", "json"};
  args.insert(args.end(), bad.begin(), bad.end());
  Result r = Run(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  const auto status = FromJson<google::rpc::Status>(r.err);
  EXPECT_EQ(status.code(), 3);  // INVALID_ARGUMENT
  EXPECT_EQ(status.message(), "policy.timeout: must be between 1us and 10s");
  google::rpc::BadRequest br;
  ASSERT_EQ(status.details_size(), 1) << r.err;
  ASSERT_TRUE(status.details(0).UnpackTo(&br)) << r.err;
  ASSERT_EQ(br.field_violations_size(), 1);
  EXPECT_EQ(br.field_violations(0).field(), "policy.timeout");
  EXPECT_EQ(br.field_violations(0).description(),
            "must be between 1us and 10s");
  // The JSON names the detail's type and the violations' fields as
  // protobuf's JSON mapping does.
  EXPECT_NE(
      r.err.find("\"@type\":\"type.googleapis.com/google.rpc.BadRequest\""),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\"fieldViolations\":[{\"field\":\"policy.timeout\""),
            std::string::npos)
      << r.err;

  args[1] = "textproto";
  r = Run(args);
  EXPECT_EQ(r.code, 1);
  google::rpc::Status from_text;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(r.err, &from_text))
      << r.err;
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(from_text, status));

  args[1] = "yaml";
  r = Run(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("- field: policy.timeout\n"), std::string::npos)
      << r.err;

  // No violations attached: the message alone, in table form.
  r = Run({"tenant", "get", "nope"});
  EXPECT_EQ(r.err, "grocli: NOT_FOUND: tenant nope not found\n");
  // Nothing changed on the server by the refused calls.
  EXPECT_EQ(server_->dp().tenant("acme")->flush.kind, FlushKind::kPerBurst);
}

TEST_F(GrocliTest, Policy) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  Result r = Ok({"policy", "set", "acme", "--flush", "adaptive",
                 "--flush-timeout", "50us", "--max-merged-bytes", "9000"});
  EXPECT_NE(r.out.find("adaptive 50us"), std::string::npos) << r.out;
  EXPECT_EQ(server_->dp().tenant("acme")->flush.kind, FlushKind::kAdaptive);
  auto p = FromJson<v1::FlushPolicy>(
      Ok({"policy", "get", "acme", "-o", "json"}).out);
  EXPECT_EQ(p.max_merged_bytes(), 9000u);
  r = Run({"policy", "set", "acme", "--flush", "timeout", "--flush-timeout",
           "20s"});
  EXPECT_EQ(r.code, 1);
  // The server's google.rpc.BadRequest, under the message.
  EXPECT_EQ(r.err,
            "grocli: INVALID_ARGUMENT: policy.timeout: must be between 1us "
            "and 10s\n"
            "  field policy.timeout: must be between 1us and 10s\n");

  // The old spellings --kind/--timeout still work, with a warning.
  r = Run({"policy", "set", "acme", "--kind", "timeout", "--timeout=300us"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "grocli: warning: --kind is deprecated, use --flush\n"
            "grocli: warning: --timeout is deprecated, use --flush-timeout\n");
  EXPECT_EQ(server_->dp().tenant("acme")->flush.kind, FlushKind::kTimeout);
  EXPECT_EQ(server_->dp().tenant("acme")->flush.timeout_ns, 300000u);
  // Both spellings on one line: the last one wins, as for a repeated flag.
  r = Run({"policy", "set", "acme", "--flush", "timeout", "--flush-timeout",
           "400us", "--timeout", "500us"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(server_->dp().tenant("acme")->flush.timeout_ns, 500000u);
  r = Run({"policy", "set", "acme", "--help"});
  EXPECT_NE(r.out.find("deprecated: use --flush-timeout"), std::string::npos)
      << r.out;
}

TEST_F(GrocliTest, Stats) {
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  StatsSnapshot snap;
  TenantCounters c;
  c.tenant = "acme";
  c.packets_in = 4242;
  snap.tenants.push_back(c);
  snap.ports.push_back(PortCounters{.port_id = 0, .name = "net_fake0"});
  server_->dp().SetStats(snap);
  Result r = Ok({"stats"});
  EXPECT_NE(r.out.find("4242"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("net_fake0"), std::string::npos) << r.out;
  auto st = FromJson<v1::Stats>(Ok({"stats", "acme", "-o", "json"}).out);
  EXPECT_EQ(st.tenants(0).packets_in(), 4242u);

  r = Ok({"stats", "--watch", "--interval", "100ms", "--count", "3", "-o",
          "json"});
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (const auto& l : lines) {
    EXPECT_EQ(FromJson<v1::Stats>(l).tenants(0).packets_in(), 4242u);
  }
  r = Ok({"stats", "-w", "-i", "100ms", "-n", "2"});
  EXPECT_EQ(r.out.find("\033["), std::string::npos) << "no ANSI into a pipe";
  const std::vector<std::string> blocks = absl::StrSplit(r.out, "generation ");
  EXPECT_EQ(blocks.size(), 3u) << r.out;

  r = Run({"stats", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "grocli: NOT_FOUND: tenant nope not found\n");
}

TEST_F(GrocliTest, ExitCodes) {
  // Request failed: 1, one line.
  Result r = Run({"tenant", "get", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "grocli: NOT_FOUND: tenant nope not found\n");
  r = Run({"tenant", "create", "x", "--selector", "port=0,vlan=5000"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("tenant.selectors[0].vlan_id"), std::string::npos);
  server_->dp().SetReady(false);
  r = Run({"tenant", "create", "x", "--selector", "port=0"});
  EXPECT_EQ(r.code, 1) << "server-side UNAVAILABLE is a failed request";
  EXPECT_NE(r.err.find("grocli: UNAVAILABLE: data plane is not ready"),
            std::string::npos);

  // Usage errors: 2.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"tenant"},
           {"tenant", "get"},
           {"tenant", "get", "a", "b"},
           {"tenant", "list", "--bogus"},
           {"route", "add", "acme", "10.0.0.0/8"},
           {"route", "add", "acme", "10.0.0.0/8", "fast"},
           {"policy", "set", "acme"},
           {"stats", "--interval", "1s"},
           {"-o", "xml", "info"},
           {"route", "delete", "acme"},
           {"tenant", "del"},
           {"--deadline", "soon", "info"},
           {"tenant", "update", "acme"},
       }) {
    r = Run(args);
    EXPECT_EQ(r.code, 2) << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_EQ(r.err.rfind("grocli: ", 0), 0u) << r.err;
  }
  r = Run({"--bogus", "info"});
  EXPECT_EQ(r.err.rfind("grocli: unknown flag \"--bogus\"", 0), 0u) << r.err;
  r = Run({"frobnicate"});
  EXPECT_EQ(r.err.rfind("grocli: unknown command \"frobnicate\"", 0), 0u)
      << r.err;
  r = Run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes:"), std::string::npos);
  r = Run({"route", "add", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--file FILE"), std::string::npos);

  // Unreachable: 3.
  r = RunGrocli({"--server", "127.0.0.1:1", "info"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.err.rfind("grocli: UNAVAILABLE: cannot reach grod at "
                        "127.0.0.1:1",
                        0),
            0u)
      << r.err;
}

// -o yaml and -o textproto carry the same resource as -o json for every
// command that prints one.
TEST_F(GrocliTest, OutputFormats) {
  Ok({"tenant", "create", "acme", "--selector", "port=0,vlan=100", "--selector",
      "vni=7", "--flush", "timeout", "--flush-timeout", "200us", "--gro-types",
      "tcp4,udp4"});
  Ok({"route", "add", "acme", "10.0.0.0/8", "list", "2001:db8::/32", "bypass"});
  const std::vector<std::vector<std::string>> commands = {
      {"ports"},
      {"tenant", "get", "acme"},
      {"tenant", "list"},
      {"tenant", "update", "acme", "--max-flows", "3000"},
      {"route", "list", "acme"},
      {"route", "add", "acme", "10.0.0.0/8", "list"},
      {"policy", "get", "acme"},
      {"policy", "set", "acme", "--flush", "adaptive", "--flush-timeout",
       "20us"},
  };
  for (const std::vector<std::string>& cmd : commands) {
    auto with = [&](const std::string& format) {
      std::vector<std::string> args = cmd;
      args.insert(args.end(), {"-o", format});
      return Ok(args).out;
    };
    const std::string json = with("json");
    const std::string yaml = with("yaml");
    EXPECT_TRUE(YamlMatchesJson(yaml, json, "updateTime,etag"))
        << absl::StrJoin(cmd, " ") << "\n"
        << yaml << "\nvs\n"
        << json;
    EXPECT_EQ(yaml.find('{'), std::string::npos) << "block style: " << yaml;
    const std::string text = with("textproto");
    bool same = false;
    if (cmd[0] == "ports") {
      same = TextprotoMatchesJson<v1::ListPortsResponse>(text, json);
    } else if (cmd[0] == "route" && cmd[1] == "list") {
      same = TextprotoMatchesJson<v1::ListRouteHintsResponse>(text, json);
    } else if (cmd[0] == "route") {
      same = TextprotoMatchesJson<v1::AddRouteHintsResponse>(text, json);
    } else if (cmd[1] == "list") {
      same = TextprotoMatchesJson<v1::ListTenantsResponse>(text, json);
    } else if (cmd[0] == "tenant") {
      same = TextprotoMatchesJson<v1::Tenant>(text, json);
    } else {
      same = TextprotoMatchesJson<v1::FlushPolicy>(text, json);
    }
    EXPECT_TRUE(same) << absl::StrJoin(cmd, " ") << "\n" << text;
  }
  // Spot checks of the YAML layout people read.
  Ok({"policy", "set", "acme", "--flush", "timeout", "--flush-timeout",
      "200us"});
  const std::string yaml = Ok({"tenant", "get", "acme", "-o", "yaml"}).out;
  EXPECT_EQ(yaml.rfind("name: acme\nselectors:\n- portId: 0\n  vlanId: 100\n"
                       "- vni: 7\n",
                       0),
            0u)
      << yaml;
  EXPECT_NE(
      yaml.find("flushPolicy:\n  kind: FLUSH_KIND_TIMEOUT\n  maxMergedBytes: "
                "65535\n  maxSegments: 64\n  timeout: \"0.000200s\"\n"),
      std::string::npos)
      << yaml;
  EXPECT_NE(Ok({"policy", "get", "acme", "-o", "textproto"})
                .out.find("kind: FLUSH_KIND_TIMEOUT\n"),
            std::string::npos);

  // Clocks move between calls: info and stats compare without them.
  EXPECT_TRUE(YamlMatchesJson(Ok({"info", "-o", "yaml"}).out,
                              Ok({"info", "-o", "json"}).out,
                              "uptime,startTime"));
  EXPECT_TRUE(YamlMatchesJson(Ok({"stats", "-o", "yaml"}).out,
                              Ok({"stats", "-o", "json"}).out, "time"));
  // --watch: one YAML document per update, textproto blocks apart.
  Result r = Ok({"stats", "-w", "-i", "100ms", "-n", "3", "-o", "yaml"});
  EXPECT_TRUE(YamlMatchesJson(
      r.out, Ok({"stats", "-w", "-i", "100ms", "-n", "3", "-o", "json"}).out,
      "time"))
      << r.out;
  r = Ok({"stats", "-w", "-i", "100ms", "-n", "2", "-o", "textproto"});
  const std::vector<std::string> blocks = absl::StrSplit(r.out, "\n\n");
  ASSERT_EQ(blocks.size(), 2u) << r.out;
  for (const std::string& b : blocks) {
    v1::Stats st;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(b, &st)) << b;
    EXPECT_EQ(st.tenants(0).tenant(), "acme");
  }

  // An empty reply: "{}" in YAML, nothing in text format.
  EXPECT_EQ(Ok({"tenant", "delete", "acme", "-o", "yaml"}).out, "{}\n");
  Ok({"tenant", "create", "acme", "--selector", "port=0"});
  EXPECT_EQ(Ok({"tenant", "delete", "acme", "-o", "textproto"}).out, "");
}

// The server half of `grocli version` is what GetInfo says (the test
// server calls itself "test-version").
TEST_F(GrocliTest, Version) {
  Result r = Ok({"version"});
  EXPECT_NE(r.out.find("\ngrod       test-version  "), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.rfind("COMPONENT  VERSION       BUILD\ngrocli     ", 0), 0u)
      << r.out;
  auto v = FromJson<VersionInfo>(Ok({"version", "-o", "json"}).out);
  EXPECT_EQ(v.server().version(), "test-version");
  EXPECT_FALSE(v.client().version().empty());
  EXPECT_FALSE(v.client().build().empty());
  v = FromJson<VersionInfo>(Ok({"version", "--client", "-o", "json"}).out);
  EXPECT_FALSE(v.has_server());
  EXPECT_EQ(Run({"version", "extra"}).code, 2);
  // Unreachable: grocli's half on stdout, then exit 3.
  r = RunGrocli({"--server", "127.0.0.1:1", "version", "-o", "json"});
  EXPECT_EQ(r.code, 3) << r.err;
  v = FromJson<VersionInfo>(r.out);
  EXPECT_FALSE(v.client().version().empty());
  EXPECT_FALSE(v.has_server());
  r = RunGrocli({"--server", "127.0.0.1:1", "version", "--client"});
  EXPECT_EQ(r.code, 0) << "--client contacts nobody: " << r.err;
}

TEST_F(GrocliTest, EnvironmentSelectsServer) {
  Result r =
      RunGrocli({"info", "-o", "json"}, {"GROD_SERVER=" + server_->address()});
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunGrocli({"--server", server_->address(), "info"},
                {"GROD_SERVER=127.0.0.1:1"});
  EXPECT_EQ(r.code, 0) << "flag beats environment: " << r.err;
}

// The API's 100000 hints per request in one `route add --file` (more than
// gRPC's default 4 MiB for long IPv6 prefixes).
TEST_F(GrocliTest, HundredThousandHintsFromAFile) {
  Ok({"tenant", "create", "big", "--selector", "port=0"});
  const std::string file =
      std::string(std::getenv("TEST_TMPDIR")) + "/many-hints";
  {
    std::ofstream out(file);
    for (int i = 0; i < 100000; ++i) {
      out << absl::StrFormat("fd12:3456:789a:bcde:f012:3456:%04x:%04x/128 %s\n",
                             i >> 16, i & 0xffff, i % 2 ? "list" : "bypass");
    }
  }
  ASSERT_GT(std::filesystem::file_size(file), 4u << 20);
  Result r = Ok({"route", "add", "big", "--file", file});
  EXPECT_EQ(r.out,
            "added 100000, replaced 0; tenant big has 100000 route "
            "hints\n");
  EXPECT_EQ(server_->dp().hints("big").size(), 100000u);
}

}  // namespace
}  // namespace grod::cli
