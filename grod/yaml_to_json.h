// YAML to JSON, so that a YAML config file reaches protobuf's JSON mapping
// (google::protobuf::util::JsonStringToMessage) like a JSON one does.
#ifndef GROD_GROD_YAML_TO_JSON_H_
#define GROD_GROD_YAML_TO_JSON_H_

#include <string>

#include "absl/status/statusor.h"

namespace grod {

// Converts one YAML document (libyaml) to JSON text. Mappings become
// objects, sequences arrays. Every scalar becomes a JSON string -- protobuf's
// JSON parser reads numbers, booleans, enums and durations from strings, and
// a string field keeps what was written ("0660" stays "0660", not 432 or
// 660) -- except a plain `~`, `null` or empty value, which becomes null (the
// field is left unset). Aliases are followed. An empty document is {}.
// Errors (syntax, a second document, a non-string key, nesting deeper than
// 64) are INVALID_ARGUMENT with the line and column.
absl::StatusOr<std::string> YamlToJson(const std::string& yaml);

}  // namespace grod

#endif  // GROD_GROD_YAML_TO_JSON_H_
