// Parses grocli's `-o json` output (protobuf JSON) back into messages.
#ifndef GROD_TESTS_TESTING_PROTO_JSON_H_
#define GROD_TESTS_TESTING_PROTO_JSON_H_

#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace grod::testing {

// The message in `json`; a parse failure fails the current test.
template <typename M>
M ParseJson(const std::string& json) {
  M msg;
  auto s = google::protobuf::util::JsonStringToMessage(json, &msg);
  EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << json;
  return msg;
}

}  // namespace grod::testing

#endif  // GROD_TESTS_TESTING_PROTO_JSON_H_
