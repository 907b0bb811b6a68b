#include "grod/config.h"

#include "gmock/gmock.h"
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
                "tenants[0].name"}));

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
  EXPECT_EQ(rc.mbufs, 8191u);
  EXPECT_EQ(rc.idle_sleep_us, 5u);
  EXPECT_EQ(rc.vxlan_port, 4789);
}

}  // namespace
}  // namespace grod
