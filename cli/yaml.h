// YAML for `grocli -o yaml`: block-style YAML carrying exactly the data of
// protobuf's JSON mapping (the same field names, enum names, int64 as
// strings, Timestamp/Duration strings), so `-o yaml` and `-o json` describe
// a resource identically and fields keep their declaration order.
#ifndef GROD_CLI_YAML_H_
#define GROD_CLI_YAML_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grod::cli {

// Converts one JSON value (as protobuf's JSON printer writes it) to a YAML
// document ending in a newline. Strings that could read as another type
// ("yes", "1.5", "0.000100s", "") are double-quoted. Malformed JSON is an
// INVALID_ARGUMENT naming the offset.
absl::StatusOr<std::string> JsonToYaml(absl::string_view json);

}  // namespace grod::cli

#endif  // GROD_CLI_YAML_H_
