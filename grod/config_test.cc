#include "grod/config.h"

#include <cstdlib>
#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace grod {
namespace {

using ::testing::HasSubstr;

v1::GrodConfig ParseOk(const std::string& text) {
  absl::StatusOr<v1::GrodConfig> c = ParseConfigText(text, "test.textproto");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : v1::GrodConfig();
}

absl::Status Validate(v1::GrodConfig c) {
  ApplyDefaults(&c, "/tmp/sample.pcap");
  return ValidateConfig(c);
}

TEST(ConfigTest, ParsesAllCommonFields) {
  v1::GrodConfig c = ParseOk(R"pb(
    eal_args: [ "-l", "0-2", "-a", "0000:3b:00.0" ]
    ports { device: "0000:3b:00.0" peer: "0000:3b:00.0" rx_descriptors: 2048 }
    grpc_listen: "0.0.0.0:50051"
    idle_sleep_us: 10
    tenants { name: "blue" default_mode: GRO_MODE_LIST }
  )pb");
  EXPECT_EQ(c.eal_args_size(), 4);
  EXPECT_EQ(c.ports(0).rx_descriptors(), 2048u);
  EXPECT_EQ(c.tenants(0).default_mode(), v1::GRO_MODE_LIST);
  EXPECT_TRUE(Validate(c).ok());
}

TEST(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  absl::StatusOr<v1::GrodConfig> c =
      ParseConfigText("mbufs: 100\nbogus_field: 1\n", "my.textproto");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("my.textproto: line 2"));
  EXPECT_THAT(c.status().message(), HasSubstr("bogus_field"));
}

TEST(ConfigTest, MissingFileSaysWhich) {
  absl::StatusOr<v1::GrodConfig> c = LoadConfigFile("/nonexistent/grod.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/grod.conf"));
}

TEST(ConfigTest, EmbeddedDefaultUsesVirtualDevicesWithoutHugepages) {
  v1::GrodConfig c;
  EXPECT_TRUE(UsesEmbeddedDefault(c));
  ApplyDefaults(&c, "/tmp/s.pcap");
  std::string args;
  for (const std::string& a : c.eal_args()) args += a + " ";
  EXPECT_THAT(args, HasSubstr("--no-huge"));
  EXPECT_THAT(args, HasSubstr("--no-pci"));
  EXPECT_THAT(args, HasSubstr("rx_pcap=/tmp/s.pcap"));
  EXPECT_THAT(args, HasSubstr("net_null0"));
  ASSERT_EQ(c.tenants_size(), 1);
  EXPECT_EQ(c.tenants(0).name(), "demo");
  ASSERT_EQ(c.route_hints_size(), 1);
  EXPECT_EQ(c.route_hints(0).hints(0).mode(), v1::GRO_MODE_LIST);
  EXPECT_EQ(c.grpc_listen(), kDefaultGrpcListen);
  EXPECT_EQ(c.metrics_listen(), kDefaultMetricsListen);
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ConfigTest, ExplicitEalArgsAreKeptAsGiven) {
  v1::GrodConfig c = ParseOk(R"pb(eal_args: [ "-l", "0-3" ])pb");
  ApplyDefaults(&c, "/tmp/s.pcap");
  ASSERT_EQ(c.eal_args_size(), 2);
  EXPECT_EQ(c.eal_args(1), "0-3");
}

struct BadCase {
  std::string text;
  std::string field;
};

class ConfigValidationTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigValidationTest, NamesTheField) {
  absl::Status s = Validate(ParseOk(GetParam().text));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(
    Bad, ConfigValidationTest,
    ::testing::Values(
        BadCase{R"pb(grpc_listen: "localhost")pb", "grpc_listen"},
        BadCase{R"pb(grpc_listen: "host:99999")pb", "grpc_listen"},
        BadCase{R"pb(metrics_listen: ":abc")pb", "metrics_listen"},
        BadCase{R"pb(vxlan_port: 70000)pb", "vxlan_port"},
        BadCase{R"pb(mbufs: 10)pb", "mbufs"},
        BadCase{R"pb(idle_sleep_us: 1000000)pb", "idle_sleep_us"},
        BadCase{R"pb(ports {})pb", "ports[0].device"},
        BadCase{R"pb(ports { device: "a" }
                     ports { device: "a" })pb",
                "ports[1].device"},
        BadCase{R"pb(ports { device: "a" peer: "b" })pb", "ports[0].peer"},
        BadCase{R"pb(ports { device: "a" rx_descriptors: 8 })pb",
                "ports[0].rx_descriptors"},
        BadCase{R"pb(ports { device: "a" tso_max_bytes: 524289 })pb",
                "ports[0].tso_max_bytes"},
        BadCase{R"pb(ports { device: "a" mtu: 100 })pb", "ports[0].mtu"},
        BadCase{R"pb(ports { device: "a" mtu: 70000 })pb", "ports[0].mtu"},
        BadCase{R"pb(security { tls_cert_file: "c.pem" })pb", "tls_key_file"},
        BadCase{R"pb(security { tls_client_ca_file: "ca.pem" })pb",
                "tls_client_ca_file"},
        BadCase{R"pb(grpc_listen: "unix:relative.sock")pb", "grpc_listen"},
        BadCase{R"pb(grpc_listen: "unix:/run/grod/grod.sock"
                     security { grpc_socket_mode: "0789" })pb",
                "security.grpc_socket_mode"},
        BadCase{R"pb(grpc_listen: "unix:/run/grod/grod.sock"
                     security { grpc_socket_mode: "01777" })pb",
                "security.grpc_socket_mode"},
        BadCase{R"pb(security { grpc_socket_group: "grod" })pb",
                "grpc_socket_group"},
        BadCase{R"pb(tenants {
                       name: "admin"
                       selectors { port_id: 0 }
                     })pb",
                "tenants[0].name"},
        // Ports name devices the EAL must make: without eal_args grod used
        // to switch to the demo's virtual devices instead.
        BadCase{R"pb(ports { device: "0000:3b:00.0" })pb", "eal_args"}));

// An enum number the config does not define (JSON and text format take
// numbers for open enums) is refused, naming the field.
TEST(ConfigTest, UnknownMergedWithoutTsoNamesTheField) {
  v1::GrodConfig c = ParseOk(R"pb(eal_args: "-l"
                                  ports { device: "a" }
                                  ports { device: "b" })pb");
  c.mutable_ports(1)->set_merged_without_tso(
      static_cast<v1::PortConfig::MergedWithoutTso>(7));
  absl::Status s = Validate(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ports[1].merged_without_tso: 7"));
  c.mutable_ports(1)->set_merged_without_tso(
      v1::PortConfig::SEGMENT_IN_SOFTWARE);
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

TEST(ConfigTest, UnixSocketListen) {
  v1::GrodConfig c = ParseOk(R"pb(
    grpc_listen: "unix:/run/grod/grod.sock"
    security { grpc_socket_mode: "0600" grpc_socket_group: "grod" }
  )pb");
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  EXPECT_EQ(*SocketMode(c), 0600u);
  EXPECT_EQ(*SocketMode(v1::GrodConfig()), 0660u) << "default";
}

TEST(ConfigTest, RuntimeConfigCarriesPortsAndLimits) {
  v1::GrodConfig c = ParseOk(R"pb(
    eal_args: "-l"
    ports {
      device: "net_ring0"
      peer: "net_ring1"
      tso_max_bytes: 262144
      mtu: 9000
      merged_without_tso: SEGMENT_IN_SOFTWARE
    }
    ports { device: "net_ring1" }
    mbufs: 8191
    idle_sleep_us: 5
  )pb");
  ApplyDefaults(&c, "");
  dataplane::RuntimeConfig rc = ToRuntimeConfig(c);
  ASSERT_EQ(rc.ports.size(), 2u);
  EXPECT_EQ(rc.ports[0].peer, "net_ring1");
  EXPECT_EQ(rc.ports[1].rx_descriptors, 1024);
  EXPECT_EQ(rc.ports[0].tso_max_bytes, 262144u);  // BIG TCP NIC
  EXPECT_EQ(rc.ports[1].tso_max_bytes, 65535u);   // 0 = 65535
  EXPECT_EQ(rc.ports[0].mtu, 9000);
  EXPECT_EQ(rc.ports[1].mtu, 0);  // the device's default
  EXPECT_TRUE(rc.ports[0].segment_merged_in_software);
  EXPECT_FALSE(rc.ports[1].segment_merged_in_software);  // LINK by default
  EXPECT_EQ(rc.mbufs, 8191u);
  EXPECT_EQ(rc.idle_sleep_us, 5u);
  EXPECT_EQ(rc.vxlan_port, 4789);
}

// The same configuration in the three formats.
constexpr char kTextproto[] = R"pb(
  eal_args: [ "-l", "0-2", "-a", "0000:3b:00.0" ]
  ports { device: "0000:3b:00.0" peer: "0000:3b:00.0" rx_descriptors: 2048 }
  grpc_listen: "unix:/run/grod/grod.sock"
  security { grpc_socket_mode: "0660" }
  trust_unverified_checksums: true
  tenants {
    name: "blue"
    selectors { port_id: 0 vlan_id: 100 }
    default_mode: GRO_MODE_LIST
    flush_policy {
      kind: FLUSH_KIND_TIMEOUT
      timeout { nanos: 100000 }
    }
  }
  route_hints {
    tenant: "blue"
    hints { prefix: "10.0.0.0/8" mode: GRO_MODE_MERGE }
  }
)pb";

constexpr char kJson[] = R"({
  "eal_args": ["-l", "0-2", "-a", "0000:3b:00.0"],
  "ports": [{"device": "0000:3b:00.0", "peer": "0000:3b:00.0",
             "rxDescriptors": 2048}],
  "grpc_listen": "unix:/run/grod/grod.sock",
  "security": {"grpc_socket_mode": "0660"},
  "trust_unverified_checksums": true,
  "tenants": [{"name": "blue",
               "selectors": [{"port_id": 0, "vlan_id": 100}],
               "default_mode": "GRO_MODE_LIST",
               "flush_policy": {"kind": "FLUSH_KIND_TIMEOUT",
                                "timeout": "0.000100s"}}],
  "route_hints": [{"tenant": "blue",
                   "hints": [{"prefix": "10.0.0.0/8",
                              "mode": "GRO_MODE_MERGE"}]}]
})";

// Unquoted 0660 and true: the string field keeps its text, the bool reads
// as a bool; an alias repeats the selector list.
constexpr char kYaml[] = R"(# grod config
eal_args: [-l, 0-2, -a, "0000:3b:00.0"]
ports:
  - device: 0000:3b:00.0
    peer: "0000:3b:00.0"
    rxDescriptors: 2048
grpc_listen: unix:/run/grod/grod.sock
security:
  grpc_socket_mode: 0660
trust_unverified_checksums: true
tenants:
  - name: blue
    selectors: &sel
      - port_id: 0
        vlan_id: 100
    default_mode: GRO_MODE_LIST
    flush_policy:
      kind: FLUSH_KIND_TIMEOUT
      timeout: 0.000100s
    quotas: ~
route_hints:
  - tenant: blue
    hints:
      - {prefix: 10.0.0.0/8, mode: GRO_MODE_MERGE}
)";

std::string WriteTemp(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

void ExpectSameAsTextproto(const absl::StatusOr<v1::GrodConfig>& c) {
  ASSERT_TRUE(c.ok()) << c.status();
  const v1::GrodConfig want = ParseOk(kTextproto);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*c, want))
      << "got:\n"
      << c->DebugString() << "want:\n"
      << want.DebugString();
}

TEST(ConfigFormatTest, JsonAndYamlReadAsTheTextproto) {
  ExpectSameAsTextproto(
      LoadConfigFile(WriteTemp("grod.textproto", kTextproto)));
  ExpectSameAsTextproto(LoadConfigFile(WriteTemp("grod.txtpb", kTextproto)));
  ExpectSameAsTextproto(LoadConfigFile(WriteTemp("grod.json", kJson)));
  ExpectSameAsTextproto(LoadConfigFile(WriteTemp("grod.yaml", kYaml)));
  ExpectSameAsTextproto(LoadConfigFile(WriteTemp("grod.YML", kYaml)));
}

TEST(ConfigFormatTest, EmptyYamlIsAnEmptyConfig) {
  absl::StatusOr<v1::GrodConfig> c = ParseConfigYaml("# nothing\n", "e.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(UsesEmbeddedDefault(*c));
}

TEST(ConfigFormatTest, OtherNamesAreTextFormat) {
  ExpectSameAsTextproto(LoadConfigFile(WriteTemp("grod.conf", kTextproto)));
  ExpectSameAsTextproto(LoadConfigFile(WriteTemp("grod", kTextproto)));
  // JSON in a file not named .json: the text-format error says how to name it.
  absl::StatusOr<v1::GrodConfig> c =
      LoadConfigFile(WriteTemp("grod.conf", kJson));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("grod.conf"));
  EXPECT_THAT(c.status().message(), HasSubstr("*.json"));
}

struct FormatError {
  std::string file;
  std::string text;
  std::vector<std::string> want;  // substrings of the message
};

class ConfigFormatErrorTest : public ::testing::TestWithParam<FormatError> {};

TEST_P(ConfigFormatErrorTest, NamesFileAndPlace) {
  absl::StatusOr<v1::GrodConfig> c =
      LoadConfigFile(WriteTemp(GetParam().file, GetParam().text));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr(GetParam().file));
  for (const std::string& w : GetParam().want) {
    EXPECT_THAT(c.status().message(), HasSubstr(w));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bad, ConfigFormatErrorTest,
    ::testing::Values(
        FormatError{"unknown.json",
                    R"({"mbufs": 9000, "bogus_field": 1})",
                    {"bogus_field"}},
        FormatError{"enum.json",
                    R"({"tenants": [{"default_mode": "FAST"}]})",
                    {"FAST"}},
        FormatError{"syntax.json", R"({"mbufs": )", {}},
        FormatError{"merge.yaml",
                    "ports:\n  - device: a\n    merged_without_tso: CUT\n",
                    {"CUT"}},
        FormatError{
            "unknown.yaml", "mbufs: 9000\nbogus_field: 1\n", {"bogus_field"}},
        FormatError{"type.yaml", "mbufs: lots\n", {"mbufs"}},
        FormatError{
            "syntax.yaml", "tenants:\n  - name: a\n   bad: [\n", {"line 3"}},
        FormatError{"two.yaml",
                    "mbufs: 9000\n---\nmbufs: 1\n",
                    {"second YAML document"}},
        FormatError{"key.yaml", "? [a, b]\n: 1\n", {"field name"}},
        FormatError{"dup.yaml",
                    "mbufs: 9000\nmbufs: 1\n",
                    {"line 2, column 1", "\"mbufs\" given twice"}},
        FormatError{"list.yaml", "- mbufs: 1\n", {"top level"}}));

TEST(ExpandEalArgsTest, ReplacesEnvironmentVariables) {
  const std::map<std::string, std::string> env = {
      {"PCIDEVICE_INTEL_COM_SRIOV", "0000:3b:02.1"}, {"CORES", "2-3"}};
  auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  v1::GrodConfig c = ParseOk(R"pb(
    eal_args: [
      "-l",
      "0,${CORES}",
      "-a",
      "${PCIDEVICE_INTEL_COM_SRIOV}",
      "--vdev=net_tap0,iface=$dollar",
      "${CORES}${CORES}"
    ]
  )pb");
  ASSERT_TRUE(ExpandEalArgs(&c, getenv).ok());
  EXPECT_EQ(c.eal_args(1), "0,2-3");
  EXPECT_EQ(c.eal_args(3), "0000:3b:02.1");
  EXPECT_EQ(c.eal_args(4), "--vdev=net_tap0,iface=$dollar");  // no braces
  EXPECT_EQ(c.eal_args(5), "2-32-3");
}

TEST(ExpandEalArgsTest, UnsetOrMalformedIsAnErrorNamingIt) {
  auto getenv = [](const char*) -> const char* { return nullptr; };
  for (const auto& [arg, want] :
       std::vector<std::pair<std::string, std::string>>{
           {"${PCIDEVICE_MISSING}", "PCIDEVICE_MISSING is not set"},
           {"${UNCLOSED", "${NAME}"},
           {"${}", "${NAME}"},
           {"${BAD-NAME}", "${NAME}"},
           {"${1X}", "${NAME}"}}) {
    v1::GrodConfig c;
    c.add_eal_args("-a");
    c.add_eal_args(arg);
    absl::Status s = ExpandEalArgs(&c, getenv);
    ASSERT_FALSE(s.ok()) << arg;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("eal_args[1]")) << arg;
    EXPECT_THAT(s.message(), HasSubstr(want)) << arg;
    EXPECT_EQ(c.eal_args(1), arg) << "changed nothing";
  }
}

TEST(ExpandEalArgsTest, ReadsTheProcessEnvironmentByDefault) {
  setenv("GROD_CONFIG_TEST_DEVICE", "net_null0", 1);
  v1::GrodConfig c;
  c.add_eal_args("--vdev=${GROD_CONFIG_TEST_DEVICE}");
  ASSERT_TRUE(ExpandEalArgs(&c).ok());
  EXPECT_EQ(c.eal_args(0), "--vdev=net_null0");
}

TEST(ConfigTest, PortsWithoutEalArgsAreNotTheEmbeddedDefault) {
  v1::GrodConfig c = ParseOk(R"pb(ports { device: "0000:3b:00.0" })pb");
  EXPECT_FALSE(UsesEmbeddedDefault(c));
  ApplyDefaults(&c, "/tmp/s.pcap");
  EXPECT_EQ(c.eal_args_size(), 0) << "no demo devices slipped in";
  EXPECT_EQ(c.tenants_size(), 0) << "no demo tenant";
  absl::Status s = ValidateConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("0000:3b:00.0"));
}

}  // namespace
}  // namespace grod
