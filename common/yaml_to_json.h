// YAML to JSON, so that a YAML file reaches protobuf's JSON mapping
// (google::protobuf::util::JsonStringToMessage) like a JSON one does. One
// converter for every YAML grod reads: its config file and `grocli apply -f`.
#ifndef GROD_COMMON_YAML_TO_JSON_H_
#define GROD_COMMON_YAML_TO_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grod {

struct YamlToJsonOptions {
  // What a file without a document (empty, only comments, or a bare `---`)
  // converts to: `{}` when true, else an error. grod's config file may be
  // empty (the embedded default); an empty desired state for `grocli apply`
  // would delete every tenant, so there it is an error.
  bool empty_is_empty_object = false;
};

// Converts one YAML document (libyaml) to JSON text: mappings become objects,
// sequences arrays. Every scalar becomes a JSON string -- protobuf's JSON
// parser reads numbers, booleans, enums and durations from strings, a string
// field keeps exactly what was written (`0660` stays "0660", `1e3` "1e3"),
// and a 64-bit integer keeps every digit -- except a plain (unquoted) empty
// value, `~`, `null`, `Null` or `NULL`, which becomes null (the field is
// left unset). Quote a value to make it a string in any case.
//
// The top level must be a mapping. Anchors and aliases are followed (an
// alias repeats the anchored value), as long as the JSON stays within 16
// times the input plus 64 KiB ("billion laughs" stops there).
//
// Errors are INVALID_ARGUMENT starting "line L, column C: " (1-based): YAML
// syntax (with a hint when a tab indents), a second document, a key given
// twice in one mapping, a key that is not a plain scalar, a merge key (<<),
// an explicit tag (!!str), an alias naming no anchor, nesting deeper than
// 64 levels, the top level not a mapping.
absl::StatusOr<std::string> YamlToJson(absl::string_view yaml,
                                       const YamlToJsonOptions& options = {});

}  // namespace grod

#endif  // GROD_COMMON_YAML_TO_JSON_H_
