// grocli apply's file reading (YAML, JSON, text format must mean the same
// request) and its diff rendering.
#include "cli/apply_file.h"

#include "cli/cmd_apply.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace grod::cli {
namespace {

using google::protobuf::util::MessageDifferencer;

// The request every format below spells, written out by hand.
v1::ApplyConfigRequest Expected() {
  v1::ApplyConfigRequest r;
  v1::Tenant* acme = r.add_tenants();
  acme->set_name("acme");
  acme->add_selectors()->set_port_id(0);
  acme->mutable_selectors(0)->set_vlan_id(100);
  acme->mutable_flush_policy()->set_kind(v1::FLUSH_KIND_TIMEOUT);
  acme->mutable_flush_policy()->mutable_timeout()->set_nanos(100'000);
  v1::Tenant* blue = r.add_tenants();
  blue->set_name("blue");
  blue->add_selectors()->set_vni(5001);
  blue->set_default_mode(v1::GRO_MODE_LIST);
  blue->add_gro_types(v1::GRO_TYPE_TCP4);
  v1::TenantRouteHints* rh = r.add_route_hints();
  rh->set_tenant("acme");
  rh->add_hints()->set_prefix("10.0.0.0/8");
  rh->mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
  return r;
}

constexpr char kYaml[] = R"(# the desired state
tenants:
  - name: acme
    selectors: [{port_id: 0, vlan_id: 100}]
    flush_policy: {kind: FLUSH_KIND_TIMEOUT, timeout: 0.0001s}
  - name: "blue"
    selectors:
      - vni: 5001
    defaultMode: GRO_MODE_LIST
    gro_types: [GRO_TYPE_TCP4]
route_hints:
  - tenant: acme
    hints:
      - {prefix: 10.0.0.0/8, mode: GRO_MODE_LIST}
)";

constexpr char kJson[] = R"({"tenants": [
  {"name": "acme", "selectors": [{"portId": 0, "vlanId": 100}],
   "flushPolicy": {"kind": "FLUSH_KIND_TIMEOUT", "timeout": "0.000100s"}},
  {"name": "blue", "selectors": [{"vni": 5001}], "defaultMode": "GRO_MODE_LIST",
   "groTypes": ["GRO_TYPE_TCP4"]}],
 "routeHints": [{"tenant": "acme",
                 "hints": [{"prefix": "10.0.0.0/8", "mode": "GRO_MODE_LIST"}]}]})";

constexpr char kText[] = R"(
tenants {
  name: "acme"
  selectors { port_id: 0 vlan_id: 100 }
  flush_policy { kind: FLUSH_KIND_TIMEOUT timeout { nanos: 100000 } }
}
tenants {
  name: "blue"
  selectors { vni: 5001 }
  default_mode: GRO_MODE_LIST
  gro_types: GRO_TYPE_TCP4
}
route_hints { tenant: "acme" hints { prefix: "10.0.0.0/8" mode: GRO_MODE_LIST } }
)";

void ExpectParsesToExpected(const char* text, FileFormat f) {
  absl::StatusOr<v1::ApplyConfigRequest> r = ParseApplyFile(text, f, "f");
  ASSERT_TRUE(r.ok()) << r.status();
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(Expected(), *r)) << diff;
}

TEST(ApplyFileTest, EveryFormatMeansTheSame) {
  ExpectParsesToExpected(kYaml, FileFormat::kYaml);
  ExpectParsesToExpected(kJson, FileFormat::kJson);
  ExpectParsesToExpected(kText, FileFormat::kText);
  // JSON is YAML too (what stdin is read as).
  ExpectParsesToExpected(kJson, FileFormat::kYaml);
}

TEST(ApplyFileTest, FormatByExtension) {
  EXPECT_EQ(FormatOf("a/b.yaml"), FileFormat::kYaml);
  EXPECT_EQ(FormatOf("b.YML"), FileFormat::kYaml);
  EXPECT_EQ(FormatOf("b.json"), FileFormat::kJson);
  EXPECT_EQ(FormatOf("b.textproto"), FileFormat::kText);
  EXPECT_EQ(FormatOf("b.txtpb"), FileFormat::kText);
  EXPECT_EQ(FormatOf("-"), FileFormat::kYaml);
}

// Unquoted words mean what the field's type reads from them: a string
// field keeps the text (etags are digits: `etag: 7` is "7", a tenant named
// 0660 stays "0660"), a bool field reads true.
TEST(ApplyFileTest, YamlScalarsFollowTheFieldType) {
  absl::StatusOr<v1::ApplyConfigRequest> r = ParseApplyFile(
      "etag: 7\ndry_run: true\ntenants: [{name: 0660, quotas: {max_flows: "
      "'10'}}]\n",
      FileFormat::kYaml, "f");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->etag(), "7");
  EXPECT_TRUE(r->dry_run());
  ASSERT_EQ(r->tenants_size(), 1);
  EXPECT_EQ(r->tenants(0).name(), "0660");
  EXPECT_EQ(r->tenants(0).quotas().max_flows(), 10u);
}

TEST(ApplyFileTest, ErrorsSayWhere) {
  struct Case {
    const char* text;
    FileFormat format;
    const char* says;
  } cases[] = {
      {"tenants:\n  - name: a\n   bad: [\n", FileFormat::kYaml, "f: line "},
      {"- a\n- b\n", FileFormat::kYaml, "top level must be a mapping"},
      {"", FileFormat::kYaml, "empty"},
      {"a: 1\na: 2\n", FileFormat::kYaml,
       "f: line 2, column 1: key \"a\" given twice"},
      {"a: 1\n---\nb: 2\n", FileFormat::kYaml, "second YAML document"},
      {"tenants:\n  - nmae: acme\n", FileFormat::kYaml,
       "not a grod.v1.ApplyConfigRequest"},
      {"{\"tenants\": 3}", FileFormat::kJson,
       "not a grod.v1.ApplyConfigRequest"},
      {"tenants { nmae: \"x\" }", FileFormat::kText, "f: line 1, column"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::ApplyConfigRequest> r =
        ParseApplyFile(c.text, c.format, "f");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << r.status().message();
  }
}

TEST(ApplyFileTest, DiffText) {
  v1::ApplyConfigResponse resp;
  google::protobuf::TextFormat::ParseFromString(
      R"(
changes { action: CREATE_TENANT tenant: "gamma"
          after { name: "gamma" selectors { vlan_id: 30 }
                  default_mode: GRO_MODE_MERGE
                  flush_policy { kind: FLUSH_KIND_PER_BURST } } }
changes { action: UPDATE_TENANT tenant: "acme"
          changed_fields { paths: "quotas.max_flows" paths: "flush_policy.timeout" }
          before { quotas { max_flows: 10 } }
          after { quotas { max_flows: 20 }
                  flush_policy { timeout { nanos: 200000 } } } }
changes { action: DELETE_TENANT tenant: "beta"
          before { route_hint_count: 3 } }
changes { action: CHANGE_ROUTE_HINT tenant: "acme" prefix: "10.0.0.0/8"
          mode_before: GRO_MODE_LIST mode_after: GRO_MODE_BYPASS }
changes { action: REMOVE_ROUTE_HINT tenant: "acme" prefix: "11.0.0.0/8"
          mode_before: GRO_MODE_MERGE }
etag: "7" config_generation: 7
)",
      &resp);
  EXPECT_EQ(DiffText(resp, false),
            "+ tenant gamma (selectors vlan=30; mode merge; flush per-burst)\n"
            "~ tenant acme: quotas.max_flows: 10 -> 20, flush_policy.timeout: "
            "none -> 200us\n"
            "- tenant beta (3 route hints)\n"
            "~ route acme 10.0.0.0/8 list -> bypass\n"
            "- route acme 11.0.0.0/8 merge\n"
            "5 changes applied; etag 7 (generation 7)\n");
  EXPECT_EQ(DiffText(v1::ApplyConfigResponse(), true),
            "no changes: grod already has this configuration; etag  "
            "(generation 0)\n");
}

}  // namespace
}  // namespace grod::cli
