// Reading `grocli apply`'s desired-state file: a grod.v1.ApplyConfigRequest
// in YAML, JSON (protobuf's JSON mapping) or protobuf text format.
#ifndef GROD_CLI_APPLY_FILE_H_
#define GROD_CLI_APPLY_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::cli {

enum class FileFormat { kYaml, kJson, kText };

// By extension: .yaml/.yml, .json, .textproto/.txtpb/.pbtxt; "-" (stdin)
// and anything else are read as YAML, of which JSON is a subset.
FileFormat FormatOf(absl::string_view path);

// Parses `text` (YAML through common/yaml_to_json.h); errors say where
// (`source`, line, column) and what.
absl::StatusOr<v1::ApplyConfigRequest> ParseApplyFile(absl::string_view text,
                                                      FileFormat format,
                                                      absl::string_view source);

}  // namespace grod::cli

#endif  // GROD_CLI_APPLY_FILE_H_
