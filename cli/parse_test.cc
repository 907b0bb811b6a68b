#include "cli/parse.h"

#include "cli/flags.h"
#include "gtest/gtest.h"

namespace grod::cli {
namespace {

TEST(FlagsTest, ParsesForms) {
  FlagParser p({{"a", 0, "V", ""},
                {"b", 0, "", ""},
                {"r", 'r', "V", "", true},
                {"output", 'o', "F", ""}});
  auto r = p.Parse({"x", "--a=1", "--b", "-r", "2", "--r", "3", "-o", "json",
                    "--", "--not-a-flag"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Get("a"), "1");
  EXPECT_TRUE(r->Has("b"));
  EXPECT_EQ(r->GetAll("r"), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(r->Get("output"), "json");
  EXPECT_EQ(r->positional(), (std::vector<std::string>{"x", "--not-a-flag"}));
  EXPECT_FALSE(p.Parse({"--nope"}).ok());
  EXPECT_FALSE(p.Parse({"--a"}).ok()) << "missing value";
  EXPECT_FALSE(p.Parse({"--b=3"}).ok());
}

TEST(FlagsTest, ExtractLeavesOthers) {
  FlagParser p({{"server", 0, "A", ""}});
  std::vector<std::string> rest;
  auto r = p.Extract({"tenant", "--server", "h:1", "list", "--page-size", "3"},
                     &rest);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Get("server"), "h:1");
  EXPECT_EQ(rest,
            (std::vector<std::string>{"tenant", "list", "--page-size", "3"}));
}

TEST(FlagsTest, DeprecatedSpellingStoresUnderTheNewNameAndWarns) {
  FlagParser p({{"flush", 0, "KIND", "kind"},
                {"kind", 0, "KIND", "", false, "flush"},
                {"quiet", 0, "", ""}});
  auto r = p.Parse({"--kind", "timeout", "x"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Get("flush"), "timeout");
  EXPECT_FALSE(r->Has("kind"));
  EXPECT_EQ(r->warnings(),
            (std::vector<std::string>{"--kind is deprecated, use --flush"}));
  r = p.Parse({"--flush=per-burst", "--kind=adaptive"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Get("flush"), "adaptive") << "the last one wins";
  r = p.Parse({"--flush", "timeout", "--quiet"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->warnings().empty());
  EXPECT_NE(p.Usage().find("--kind KIND"), std::string::npos);
  EXPECT_NE(p.Usage().find("deprecated: use --flush"), std::string::npos);
}

TEST(ParseTest, Values) {
  EXPECT_EQ(*ParseMode("LIST"), v1::GRO_MODE_LIST);
  EXPECT_FALSE(ParseMode("fast").ok());
  EXPECT_EQ(*ParseFlushKind("per-burst"), v1::FLUSH_KIND_PER_BURST);
  auto types = ParseGroTypes("tcp4,ipv4-frag,vxlan");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(*types,
            (std::vector<v1::GroType>{v1::GRO_TYPE_TCP4, v1::GRO_TYPE_IPV4_FRAG,
                                      v1::GRO_TYPE_VXLAN}));
  EXPECT_TRUE(ParseGroTypes("all")->empty());
  EXPECT_FALSE(ParseGroTypes("tcp5").ok());
  auto sel = ParseSelector("port=1,vni=77");
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->port_id(), 1u);
  EXPECT_FALSE(sel->has_vlan_id());
  EXPECT_EQ(sel->vni(), 77u);
  EXPECT_FALSE(ParseSelector("port=x").ok());
  EXPECT_FALSE(ParseSelector("mac=1").ok());
  EXPECT_EQ(ParseProtoDuration("200us")->nanos(), 200000);
  EXPECT_EQ(ParseProtoDuration("1.5s")->seconds(), 1);
  EXPECT_FALSE(ParseProtoDuration("soon").ok());
}

TEST(ParseTest, HintLines) {
  auto hints = ParseHintLines(
      "# comment\n10.0.0.0/8 list\n\n  2001:db8::/32\tBYPASS  # trailing\n",
      "f");
  ASSERT_TRUE(hints.ok()) << hints.status();
  ASSERT_EQ(hints->size(), 2u);
  EXPECT_EQ((*hints)[1].prefix(), "2001:db8::/32");
  EXPECT_EQ((*hints)[1].mode(), v1::GRO_MODE_BYPASS);
  auto bad = ParseHintLines("10.0.0.0/8\n", "f");
  EXPECT_EQ(bad.status().message(), "f:1: expected \"PREFIX MODE\"");
  EXPECT_FALSE(ParseHintLines("10.0.0.0/8 fast\n", "f").ok());
}

}  // namespace
}  // namespace grod::cli
