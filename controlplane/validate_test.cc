#include "controlplane/validate.h"

#include "gtest/gtest.h"

namespace grod::controlplane {
namespace {

v1::Tenant Valid() {
  v1::Tenant t;
  t.set_name("acme-1");
  t.add_selectors()->set_port_id(0);
  return t;
}

void ExpectInvalid(const v1::Tenant& t, const std::string& field) {
  absl::StatusOr<v1::Tenant> r = NormalizeTenant(t, "tenant", nullptr);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_EQ(r.status().message().rfind(field + ": ", 0), 0u)
      << r.status().message() << " should start with " << field;
}

TEST(ValidateTest, NormalisesDefaults) {
  absl::StatusOr<v1::Tenant> t = NormalizeTenant(Valid(), "tenant", nullptr);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->quotas().max_flows(), 4096u);
  EXPECT_EQ(t->quotas().max_held_packets(), 2048u);
  EXPECT_EQ(t->default_mode(), v1::GRO_MODE_MERGE);
  EXPECT_EQ(t->flush_policy().kind(), v1::FLUSH_KIND_PER_BURST);
  EXPECT_EQ(t->flush_policy().max_merged_bytes(), 65535u);
  EXPECT_EQ(t->flush_policy().max_segments(), 64u);
}

TEST(ValidateTest, NamesTheBadField) {
  v1::Tenant t = Valid();
  t.set_name("1abc");
  ExpectInvalid(t, "tenant.name");
  t.set_name(std::string(64, 'a'));
  ExpectInvalid(t, "tenant.name");
  t.set_name("Abc");
  ExpectInvalid(t, "tenant.name");

  t = Valid();
  t.clear_selectors();
  ExpectInvalid(t, "tenant.selectors");
  t = Valid();
  t.add_selectors()->set_vlan_id(4095);
  ExpectInvalid(t, "tenant.selectors[1].vlan_id");
  t = Valid();
  t.add_selectors()->set_vni(1 << 24);
  ExpectInvalid(t, "tenant.selectors[1].vni");
  t = Valid();
  t.add_selectors()->set_port_id(0);
  ExpectInvalid(t, "tenant.selectors[1]");
  t = Valid();
  t.mutable_selectors(0)->set_port_id(70000);
  ExpectInvalid(t, "tenant.selectors[0].port_id");

  t = Valid();
  t.mutable_quotas()->set_max_flows(1 << 21);
  ExpectInvalid(t, "tenant.quotas.max_flows");
  t = Valid();
  t.add_gro_types(v1::GRO_TYPE_UNSPECIFIED);
  ExpectInvalid(t, "tenant.gro_types[0]");
  t = Valid();
  t.add_gro_types(v1::GRO_TYPE_TCP4);
  t.add_gro_types(v1::GRO_TYPE_TCP4);
  ExpectInvalid(t, "tenant.gro_types[1]");
  t = Valid();
  t.set_default_mode(static_cast<v1::GroMode>(9));
  ExpectInvalid(t, "tenant.default_mode");

  t = Valid();
  t.mutable_flush_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
  ExpectInvalid(t, "tenant.flush_policy.timeout");
  t.mutable_flush_policy()->mutable_timeout()->set_seconds(11);
  ExpectInvalid(t, "tenant.flush_policy.timeout");
  t.mutable_flush_policy()->mutable_timeout()->set_seconds(0);
  t.mutable_flush_policy()->mutable_timeout()->set_nanos(999);
  ExpectInvalid(t, "tenant.flush_policy.timeout");
  t.mutable_flush_policy()->mutable_timeout()->set_nanos(1000);
  EXPECT_TRUE(NormalizeTenant(t, "tenant", nullptr).ok());
  t.mutable_flush_policy()->set_max_segments(65);
  ExpectInvalid(t, "tenant.flush_policy.max_segments");
  t.mutable_flush_policy()->set_max_segments(0);
  t.mutable_flush_policy()->set_max_merged_bytes(524288);  // BIG TCP
  EXPECT_TRUE(NormalizeTenant(t, "tenant", nullptr).ok());
  t.mutable_flush_policy()->set_max_merged_bytes(524289);
  ExpectInvalid(t, "tenant.flush_policy.max_merged_bytes");

  t = Valid();
  t.mutable_flush_policy()->mutable_timeout()->set_nanos(5000);
  ExpectInvalid(t, "tenant.flush_policy.timeout");  // PER_BURST has none
}

TEST(ValidateTest, KnownPorts) {
  std::set<uint32_t> ports = {0, 1};
  v1::Tenant t = Valid();
  t.mutable_selectors(0)->set_port_id(2);
  EXPECT_EQ(NormalizeTenant(t, "tenant", &ports).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NormalizeTenant(t, "tenant", nullptr).ok());
}

}  // namespace
}  // namespace grod::controlplane
