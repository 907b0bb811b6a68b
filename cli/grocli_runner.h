// Runs the built grocli binary (a data dependency of the test) as a child
// process and captures its exit code, stdout and stderr; shared by the
// grocli tests.
#ifndef GROD_CLI_GROCLI_RUNNER_H_
#define GROD_CLI_GROCLI_RUNNER_H_

#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace grod::cli {

struct Result {
  int code = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path);

// Runs grocli with `args` and exactly the environment `env`.
Result RunGrocli(const std::vector<std::string>& args,
                 const std::vector<std::string>& env = {},
                 const std::string& stdin_text = "");

template <typename T>
T FromJson(const std::string& json) {
  T msg;
  auto s = google::protobuf::util::JsonStringToMessage(json, &msg);
  EXPECT_TRUE(s.ok()) << s.ToString() << " in " << json;
  return msg;
}

}  // namespace grod::cli

#endif  // GROD_CLI_GROCLI_RUNNER_H_
