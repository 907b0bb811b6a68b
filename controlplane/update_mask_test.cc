// UpdateTenant's mask semantics (AIP-134) on plain protos; the same
// through the gRPC server is in service_update_test.cc.
#include "controlplane/update_mask.h"

#include "controlplane/validate.h"
#include "gtest/gtest.h"

namespace grod::controlplane {
namespace {

using google::protobuf::FieldMask;

// A stored tenant with every mutable field set to a non-default value.
v1::Tenant Stored() {
  v1::Tenant t;
  t.set_name("acme");
  t.add_selectors()->set_port_id(0);
  t.mutable_quotas()->set_max_flows(100);
  t.mutable_quotas()->set_max_held_packets(200);
  t.add_gro_types(v1::GRO_TYPE_TCP4);
  t.set_default_mode(v1::GRO_MODE_LIST);
  t.mutable_flush_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
  t.mutable_flush_policy()->mutable_timeout()->set_nanos(100'000);
  t.mutable_flush_policy()->set_max_segments(8);
  return t;
}

FieldMask Mask(std::initializer_list<const char*> paths) {
  FieldMask m;
  for (const char* p : paths) m.add_paths(p);
  return m;
}

std::vector<std::string> Paths(const FieldMask& m) {
  return {m.paths().begin(), m.paths().end()};
}

TEST(UpdateMaskTest, NoMaskTakesPopulatedFieldsOnly) {
  v1::Tenant patch;
  patch.set_default_mode(v1::GRO_MODE_BYPASS);
  patch.mutable_flush_policy()->set_kind(v1::FLUSH_KIND_PER_BURST);
  absl::StatusOr<FieldMask> m = ResolveUpdateMask(patch, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Paths(*m),
            (std::vector<std::string>{"default_mode", "flush_policy"}));
  const v1::Tenant r = ApplyUpdateMask(Stored(), patch, *m);
  EXPECT_EQ(r.default_mode(), v1::GRO_MODE_BYPASS);
  // A populated message replaces the stored one whole.
  EXPECT_FALSE(r.flush_policy().has_timeout());
  EXPECT_EQ(r.flush_policy().max_segments(), 0u);
  // Unpopulated fields stay.
  EXPECT_EQ(r.quotas().max_flows(), 100u);
  EXPECT_EQ(r.gro_types_size(), 1);
  ASSERT_EQ(r.selectors_size(), 1);
}

TEST(UpdateMaskTest, NoMaskAndNothingPopulatedIsAnError) {
  v1::Tenant patch;
  patch.set_name("acme");
  absl::StatusOr<FieldMask> m = ResolveUpdateMask(patch, {});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message().rfind("update_mask: ", 0), 0u)
      << m.status().message();
}

TEST(UpdateMaskTest, StarReplacesEverything) {
  v1::Tenant patch;
  patch.add_selectors()->set_vlan_id(7);
  absl::StatusOr<FieldMask> m = ResolveUpdateMask(patch, Mask({"*"}));
  ASSERT_TRUE(m.ok()) << m.status();
  const v1::Tenant r = ApplyUpdateMask(Stored(), patch, *m);
  ASSERT_EQ(r.selectors_size(), 1);
  EXPECT_EQ(r.selectors(0).vlan_id(), 7u);
  EXPECT_FALSE(r.selectors(0).has_port_id());
  EXPECT_FALSE(r.has_quotas());
  EXPECT_EQ(r.gro_types_size(), 0);
  EXPECT_EQ(r.default_mode(), v1::GRO_MODE_UNSPECIFIED);
  EXPECT_FALSE(r.has_flush_policy());
  EXPECT_EQ(r.name(), "acme");

  EXPECT_EQ(ResolveUpdateMask(patch, Mask({"*", "quotas"}))
                .status()
                .message()
                .rfind("update_mask.paths[0]: ", 0),
            0u);
}

TEST(UpdateMaskTest, NestedPathsChangeOnlyThatField) {
  v1::Tenant patch;
  patch.mutable_flush_policy()->mutable_timeout()->set_nanos(250'000);
  patch.mutable_flush_policy()->set_kind(v1::FLUSH_KIND_ADAPTIVE);
  patch.mutable_quotas()->set_max_flows(7);
  absl::StatusOr<FieldMask> m = ResolveUpdateMask(
      patch, Mask({"flush_policy.timeout", "quotas.max_held_packets"}));
  ASSERT_TRUE(m.ok()) << m.status();
  const v1::Tenant r = ApplyUpdateMask(Stored(), patch, *m);
  EXPECT_EQ(r.flush_policy().timeout().nanos(), 250'000);
  EXPECT_EQ(r.flush_policy().kind(), v1::FLUSH_KIND_TIMEOUT) << "not named";
  EXPECT_EQ(r.flush_policy().max_segments(), 8u);
  // Named but unset in the patch: reset to the default.
  EXPECT_EQ(r.quotas().max_held_packets(), 0u);
  EXPECT_EQ(r.quotas().max_flows(), 100u) << "not named";
}

TEST(UpdateMaskTest, NamedButUnsetMessageIsCleared) {
  absl::StatusOr<FieldMask> m =
      ResolveUpdateMask(v1::Tenant(), Mask({"flush_policy.timeout"}));
  ASSERT_TRUE(m.ok());
  const v1::Tenant r = ApplyUpdateMask(Stored(), v1::Tenant(), *m);
  EXPECT_FALSE(r.flush_policy().has_timeout());
  EXPECT_EQ(r.flush_policy().kind(), v1::FLUSH_KIND_TIMEOUT);
}

TEST(UpdateMaskTest, BadPathsNameTheirIndex) {
  struct Case {
    FieldMask mask;
    const char* field;
    const char* says;
  } cases[] = {
      {Mask({"default_mode", "bogus"}), "update_mask.paths[1]: ", "bogus"},
      {Mask({"name"}), "update_mask.paths[0]: ", "immutable"},
      {Mask({"create_time"}), "update_mask.paths[0]: ", "output only"},
      {Mask({"etag"}), "update_mask.paths[0]: ", "output only"},
      {Mask({"route_hint_count"}), "update_mask.paths[0]: ", "output only"},
      {Mask({"flush_policy.bogus"}), "update_mask.paths[0]: ", "no field"},
      // Paths cannot reach into a list's elements.
      {Mask({"selectors.port_id"}), "update_mask.paths[0]: ", "no field"},
      {Mask({"quotas", "flush_policy.timeout.seconds.x"}),
       "update_mask.paths[1]: ", "no field"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<FieldMask> m = ResolveUpdateMask(Stored(), c.mask);
    ASSERT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(m.status().message().rfind(c.field, 0), 0u)
        << m.status().message();
    EXPECT_NE(m.status().message().find(c.says), std::string::npos)
        << m.status().message();
  }
}

TEST(UpdateMaskTest, OverlappingPathsAreCanonicalised) {
  absl::StatusOr<FieldMask> m =
      ResolveUpdateMask(Stored(), Mask({"quotas.max_flows", "quotas"}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Paths(*m), std::vector<std::string>{"quotas"});
}

TEST(UpdateMaskTest, ChangedFieldsAreLeafPaths) {
  v1::Tenant a = Stored();
  v1::Tenant b = Stored();
  EXPECT_EQ(ChangedFields(a, b).paths_size(), 0);
  EXPECT_TRUE(SameSettings(a, b));
  b.mutable_flush_policy()->mutable_timeout()->set_nanos(1);
  b.mutable_quotas()->set_max_flows(1);
  b.add_selectors()->set_vni(3);
  b.set_etag("9");  // not a setting
  b.mutable_update_time()->set_seconds(5);
  EXPECT_EQ(Paths(ChangedFields(a, b)),
            (std::vector<std::string>{"selectors", "quotas.max_flows",
                                      "flush_policy.timeout"}));
  EXPECT_FALSE(SameSettings(a, b));
}

}  // namespace
}  // namespace grod::controlplane
