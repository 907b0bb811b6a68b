// JsonToYaml: exact output for the shapes protobuf's JSON has, and for
// adversarial strings the same data as JSON when PyYAML (an independent
// YAML reader) loads it.
#include "cli/yaml.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace grod::cli {
namespace {

std::string Yaml(const std::string& json) {
  absl::StatusOr<std::string> y = JsonToYaml(json);
  EXPECT_TRUE(y.ok()) << y.status() << " for " << json;
  return y.ok() ? *y : "";
}

TEST(JsonToYamlTest, BlockLayoutKeepsFieldOrder) {
  EXPECT_EQ(Yaml(R"({"name":"acme","selectors":[{"portId":0,"vlanId":100},)"
                 R"({"vni":5001}],"defaultMode":"GRO_MODE_LIST",)"
                 R"("groTypes":["GRO_TYPE_TCP4"],"quotas":{"maxFlows":1000},)"
                 R"("createTime":"2026-12-07T03:00:00Z","hints":[],)"
                 R"("empty":{},"ready":true,"big":"18446744073709551615"})"),
            "name: acme\n"
            "selectors:\n"
            "- portId: 0\n"
            "  vlanId: 100\n"
            "- vni: 5001\n"
            "defaultMode: GRO_MODE_LIST\n"
            "groTypes:\n"
            "- GRO_TYPE_TCP4\n"
            "quotas:\n"
            "  maxFlows: 1000\n"
            "createTime: \"2026-12-07T03:00:00Z\"\n"
            "hints: []\n"
            "empty: {}\n"
            "ready: true\n"
            "big: \"18446744073709551615\"\n");
}

TEST(JsonToYamlTest, TopLevelScalarsAndEmpties) {
  EXPECT_EQ(Yaml("{}"), "{}\n");
  EXPECT_EQ(Yaml(" [ ] "), "[]\n");
  EXPECT_EQ(Yaml("\"yes\""), "\"yes\"\n");
  EXPECT_EQ(Yaml("12"), "12\n");
  EXPECT_EQ(Yaml("[[1,2],[]]"), "- - 1\n  - 2\n- []\n");
  EXPECT_EQ(Yaml(R"([{"a":{"b":[{"c":1}]}}])"),
            "- a:\n"
            "    b:\n"
            "    - c: 1\n");
}

TEST(JsonToYamlTest, QuotesWhatCouldReadAsAnotherType) {
  EXPECT_EQ(Yaml(R"({"a":"no","b":"Null","c":"","d":"0.000100s","e":"x y",)"
                 R"("f":"tcp-tso","g":"10.0.0.0/8","h":"a\"b\\c\nd\u0001"})"),
            "a: \"no\"\n"
            "b: \"Null\"\n"
            "c: \"\"\n"
            "d: \"0.000100s\"\n"
            "e: \"x y\"\n"
            "f: tcp-tso\n"
            "g: \"10.0.0.0/8\"\n"
            "h: \"a\\\"b\\\\c\\nd\\x01\"\n");
}

TEST(JsonToYamlTest, MalformedJsonIsAnError) {
  for (const char* bad :
       {"", "{", "{\"a\" 1}", "[1,]", "\"abc", "{} x", "\"\\ud800\"",
        "\"\\u12\"", "yes", "[nan]", "{\"a\":inf}", "+1", "[tru]", "-inf", "01",
        "1.", "1e", "-"}) {
    absl::StatusOr<std::string> y = JsonToYaml(bad);
    EXPECT_FALSE(y.ok()) << bad << " gave " << *y;
    if (!y.ok())
      EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// Each input, converted, must load in PyYAML to what json.loads gives.
TEST(JsonToYamlTest, PyYamlReadsTheSameDataAsJson) {
  const std::vector<std::string> inputs = {
      R"({"k":"value: with colon","l":"# not a comment","m":"- dash"})",
      R"({"a":"  leading and trailing  ","b":"tab\there","c":"'single'"})",
      R"({"true":"false","1":"2","~":"~","key with space":"&anchor *ref"})",
      R"({"u":"caf\u00e9 \ud83d\ude00 \u2028 done","v":"\u007f\u0000"})",
      R"({"c1":"\u0080\u0085\u009f","ps":"a\u2029b","bom":"\ufeff\uffff"})",
      R"({"n":[0,-1,4294967295,1.5,-2.25e-3,true,false,null]})",
      R"({"deep":[[[{"x":[{}]}]],{"y":{"z":[]}}],"s":"@at","t":"%pct"})",
      R"({"on":"ON","off":"Off","y":"Y","n":"N","yes":"YES","dur":"1.5s"})",
      R"({"q":"{flow}","r":"[flow]","s":"a,b","t":"!tag","u":"|block","w":">"})",
  };
  const std::string dir = std::getenv("TEST_TMPDIR");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string json_path = absl::StrCat(dir, "/in", i, ".json");
    const std::string yaml_path = absl::StrCat(dir, "/in", i, ".yaml");
    std::ofstream(json_path) << inputs[i];
    const std::string yaml = Yaml(inputs[i]);
    std::ofstream(yaml_path) << yaml;
    const std::string cmd = absl::StrCat(
        "python3 -c 'import json, sys, yaml\n"
        "a = json.load(open(sys.argv[1]))\n"
        "b = yaml.safe_load(open(sys.argv[2]))\n"
        "sys.exit(0 if a == b else print(a, b, sep=\"\\n\") or 1)' ",
        json_path, " ", yaml_path);
    const int rc = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
        << inputs[i] << "\nbecame\n"
        << yaml;
  }
}

}  // namespace
}  // namespace grod::cli
