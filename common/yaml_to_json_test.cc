// The one YAML converter: every expected JSON below is written out by hand
// (the converter keeps the file's key order, so whole strings compare).
#include "common/yaml_to_json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace grod {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Json(const std::string& yaml, YamlToJsonOptions options = {}) {
  absl::StatusOr<std::string> j = YamlToJson(yaml, options);
  EXPECT_TRUE(j.ok()) << yaml << "\n" << j.status();
  return j.ok() ? *j : "";
}

std::string Error(const std::string& yaml, YamlToJsonOptions options = {}) {
  absl::StatusOr<std::string> j = YamlToJson(yaml, options);
  EXPECT_FALSE(j.ok()) << yaml << "\nconverted to " << *j;
  if (j.ok()) return "";
  EXPECT_EQ(j.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(j.status().message());
}

TEST(YamlToJsonTest, BlockAndFlowNesting) {
  EXPECT_EQ(Json("tenants:\n"
                 "  - name: a\n"
                 "    selectors: [{port_id: 0, vlan_id: 100}, {vni: 7}]\n"
                 "    gro_types:\n"
                 "      - GRO_TYPE_TCP4\n"
                 "      - [nested, [deeper]]\n"
                 "  - {name: b}\n"
                 "empty_list: []\n"
                 "empty_map: {}\n"),
            R"({"tenants":[{"name":"a","selectors":[{"port_id":"0",)"
            R"("vlan_id":"100"},{"vni":"7"}],"gro_types":["GRO_TYPE_TCP4",)"
            R"(["nested",["deeper"]]]},{"name":"b"}],"empty_list":[],)"
            R"("empty_map":{}})");
}

// Numbers, booleans and octal-looking words stay the text written: protobuf's
// JSON parser reads numeric and bool fields from strings, and a string field
// must not see 0660 turn into 432 or 660, nor 2^53+1 lose its last digit.
TEST(YamlToJsonTest, ScalarsAreStringsAsWritten) {
  EXPECT_EQ(Json("a: 1\nb: '1'\nc: true\nd: 0660\ne: 1e3\nf: 0x10\n"
                 "g: 9007199254740993\nh: -0.5\ni: yes\nj: .inf\nk: \"2\"\n"
                 "l: 0.000100s\n"),
            R"({"a":"1","b":"1","c":"true","d":"0660","e":"1e3","f":"0x10",)"
            R"("g":"9007199254740993","h":"-0.5","i":"yes","j":".inf",)"
            R"("k":"2","l":"0.000100s"})");
}

TEST(YamlToJsonTest, OnlyPlainNullWordsAreNull) {
  EXPECT_EQ(Json("a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: 'null'\ng: \"~\"\n"
                 "h: nULL\ni: [~, x, '']\n"),
            R"({"a":null,"b":null,"c":null,"d":null,"e":null,"f":"null",)"
            R"("g":"~","h":"nULL","i":[null,"x",""]})");
}

TEST(YamlToJsonTest, StringsAreEscaped) {
  EXPECT_EQ(Json("a: \"q\\\"b\\\\s\\tt\\x01\"\nb: |\n  one\n  two\nc: é\n"),
            "{\"a\":\"q\\\"b\\\\s\\tt\\u0001\",\"b\":\"one\\ntwo\\n\","
            "\"c\":\"é\"}");
}

TEST(YamlToJsonTest, EmptyFileIsAnEmptyObjectOnlyWhenAsked) {
  YamlToJsonOptions empty_ok;
  empty_ok.empty_is_empty_object = true;
  for (const char* yaml : {"", "# only a comment\n", "---\n", "~\n"}) {
    EXPECT_EQ(Json(yaml, empty_ok), "{}") << yaml;
    EXPECT_THAT(Error(yaml), HasSubstr("no YAML document")) << yaml;
  }
}

TEST(YamlToJsonTest, TopLevelMustBeAMapping) {
  EXPECT_EQ(Error("- a\n- b\n"),
            "line 1, column 1: the top level must be a mapping of field: "
            "value lines");
  EXPECT_THAT(Error("just words\n"), HasSubstr("top level must be a mapping"));
}

TEST(YamlToJsonTest, SecondDocumentIsAnError) {
  EXPECT_THAT(Error("a: 1\n---\nb: 2\n"),
              StartsWith("line 2, column 1: a second YAML document"));
  // Even an empty one: the file might have been two files pasted together.
  EXPECT_THAT(Error("a: 1\n---\n"), HasSubstr("second YAML document"));
  // An explicit start, or an end marker alone, is still one document.
  EXPECT_EQ(Json("---\na: 1\n...\n"), R"({"a":"1"})");
}

TEST(YamlToJsonTest, DuplicateKeysAreErrorsInAnyMapping) {
  EXPECT_EQ(Error("a: 1\nb:\n  c: 1\n  c: 2\n"),
            "line 4, column 3: key \"c\" given twice in one mapping (first "
            "at line 3)");
  EXPECT_THAT(Error("x: {a: 1, a: 2}\n"), HasSubstr("key \"a\" given twice"));
  // Quoting does not make it another key.
  EXPECT_THAT(Error("a: 1\n\"a\": 2\n"), HasSubstr("key \"a\" given twice"));
  // The same name in different mappings is fine.
  EXPECT_EQ(Json("x: {a: 1}\ny: [{a: 2}, {a: 3}]\n"),
            R"({"x":{"a":"1"},"y":[{"a":"2"},{"a":"3"}]})");
}

TEST(YamlToJsonTest, TabIndentationSaysUseSpaces) {
  const std::string e = Error("a:\n\tb: 1\n");
  EXPECT_THAT(e, StartsWith("line 2, column 1: "));
  EXPECT_THAT(e, HasSubstr("a tab cannot indent YAML, use spaces"));
  // A tab inside a quoted value is just a character.
  EXPECT_EQ(Json("a: \"x\ty\"\n"), R"({"a":"x\ty"})");
}

TEST(YamlToJsonTest, AliasesRepeatTheAnchoredValue) {
  EXPECT_EQ(Json("base: &b {x: 1, y: [2, ~]}\ncopy: *b\n"
                 "name: &n blue\nalso: *n\nlist: [*n, *b]\n"),
            R"({"base":{"x":"1","y":["2",null]},"copy":{"x":"1","y":["2",null]},)"
            R"("name":"blue","also":"blue","list":["blue",{"x":"1","y":["2",null]}]})");
}

TEST(YamlToJsonTest, UnsupportedAliasUsesAreClearErrors) {
  EXPECT_EQ(Error("a: *nope\n"),
            "line 1, column 4: alias *nope names no anchor (&nope) defined "
            "before it");
  EXPECT_THAT(Error("a: &k name\n*k : 1\n"),
              HasSubstr("line 2, column 1: an alias cannot be a key"));
  EXPECT_THAT(Error("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n"),
              HasSubstr("line 3, column 3: merge keys (<<) are not supported"));
}

TEST(YamlToJsonTest, AliasBombStopsWithAnError) {
  // Each level doubles ten times over: 10^9 leaves if expanded.
  std::string yaml = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    yaml += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) {
      yaml += (j ? ", *l" : "*l") + std::to_string(i - 1);
    }
    yaml += "]\n";
  }
  EXPECT_THAT(Error(yaml), HasSubstr("aliases expand the file to more than"));
}

TEST(YamlToJsonTest, KeysMustBeFieldNames) {
  EXPECT_THAT(Error("? [a, b]\n: 1\n"),
              StartsWith("line 1, column 3: a key must be a field name"));
  EXPECT_THAT(Error("~: 1\n"), HasSubstr("a key must be a field name"));
  EXPECT_THAT(Error("{a: 1}: 2\n"), HasSubstr("a key must be a field name"));
}

TEST(YamlToJsonTest, ExplicitTagsAreErrors) {
  EXPECT_THAT(Error("a: !!int 5\n"),
              StartsWith("line 1, column 4: explicit tag tag:yaml.org,2002:int"));
  EXPECT_THAT(Error("a: !custom {b: 1}\n"), HasSubstr("explicit tag !custom"));
}

TEST(YamlToJsonTest, NestingIsBounded) {
  // The root mapping is level 1; 63 lists under it make 64.
  const std::string ok =
      "a: " + std::string(63, '[') + std::string(63, ']') + "\n";
  EXPECT_EQ(Json(ok), "{\"a\":" + std::string(63, '[') +
                          std::string(63, ']') + "}");
  const std::string deep =
      "a: " + std::string(64, '[') + std::string(64, ']') + "\n";
  EXPECT_THAT(Error(deep), HasSubstr("nested deeper than 64 levels"));
  // Far deeper input fails the same way, without recursion.
  EXPECT_THAT(Error("a: " + std::string(100000, '[')),
              HasSubstr("nested deeper than 64 levels"));
}

TEST(YamlToJsonTest, SyntaxErrorsNameLineAndColumn) {
  EXPECT_THAT(Error("tenants:\n  - name: a\n   bad: [\n"),
              StartsWith("line 3, column "));
  EXPECT_THAT(Error("a: [1, 2\nb: 3\n"), StartsWith("line "));
  EXPECT_THAT(Error("a: 'unterminated\n"), HasSubstr("quoted scalar"));
  // Bad UTF-8: libyaml gives a byte offset, reported as line and column.
  EXPECT_THAT(Error("a: b\nc: \xff\n"), StartsWith("line 2, column 4: "));
}

}  // namespace
}  // namespace grod
