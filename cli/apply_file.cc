#include "cli/apply_file.h"

#include <yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace grod::cli {

namespace {

using google::protobuf::Value;

absl::Status Bad(absl::string_view source, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
}

// A plain (unquoted) YAML scalar as the JSON value it reads as.
void PlainScalar(absl::string_view text, Value* out) {
  if (text == "true" || text == "True" || text == "TRUE") {
    out->set_bool_value(true);
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out->set_bool_value(false);
  } else if (text.empty() || text == "~" || text == "null" || text == "Null" ||
             text == "NULL") {
    out->set_null_value(google::protobuf::NULL_VALUE);
  } else if (double d; absl::SimpleAtod(text, &d) &&
                       text.find_first_of("xXnN") == absl::string_view::npos) {
    out->set_number_value(d);
  } else {
    out->set_string_value(std::string(text));
  }
}

// Deletes a loaded document's nodes when the conversion is done.
struct LoadedDocument {
  yaml_document_t doc;
  ~LoadedDocument() { yaml_document_delete(&doc); }
};

absl::Status Convert(yaml_document_t* doc, yaml_node_t* node,
                     absl::string_view source, int depth, Value* out) {
  if (depth > 64) return Bad(source, "nested more than 64 levels");
  const auto line = [&] {
    return absl::StrCat("line ", node->start_mark.line + 1);
  };
  switch (node->type) {
    case YAML_SCALAR_NODE: {
      const absl::string_view text(
          reinterpret_cast<const char*>(node->data.scalar.value),
          node->data.scalar.length);
      if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        PlainScalar(text, out);
      } else {
        out->set_string_value(std::string(text));
      }
      return absl::OkStatus();
    }
    case YAML_SEQUENCE_NODE: {
      auto* list = out->mutable_list_value();
      for (yaml_node_item_t* it = node->data.sequence.items.start;
           it < node->data.sequence.items.top; ++it) {
        if (absl::Status s = Convert(doc, yaml_document_get_node(doc, *it),
                                     source, depth + 1, list->add_values());
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    case YAML_MAPPING_NODE: {
      auto* fields = out->mutable_struct_value()->mutable_fields();
      for (yaml_node_pair_t* p = node->data.mapping.pairs.start;
           p < node->data.mapping.pairs.top; ++p) {
        yaml_node_t* key = yaml_document_get_node(doc, p->key);
        if (key->type != YAML_SCALAR_NODE) {
          return Bad(source,
                     absl::StrCat(line(), ": keys must be plain names"));
        }
        std::string name(reinterpret_cast<const char*>(key->data.scalar.value),
                         key->data.scalar.length);
        if (fields->contains(name)) {
          return Bad(source, absl::StrCat("line ", key->start_mark.line + 1,
                                          ": key \"", name, "\" given twice"));
        }
        if (absl::Status s = Convert(doc, yaml_document_get_node(doc, p->value),
                                     source, depth + 1, &(*fields)[name]);
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    }
    default:
      return Bad(source, absl::StrCat(line(), ": empty node"));
  }
}

class TextErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) {
      first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

FileFormat FormatOf(absl::string_view path) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".json")) return FileFormat::kJson;
  for (const char* ext : {".textproto", ".txtpb", ".pbtxt"}) {
    if (absl::EndsWith(lower, ext)) return FileFormat::kText;
  }
  return FileFormat::kYaml;
}

absl::StatusOr<std::string> YamlToJson(absl::string_view yaml,
                                       absl::string_view source) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    return absl::ResourceExhaustedError("cannot initialise the YAML parser");
  }
  yaml_parser_set_input_string(
      &parser, reinterpret_cast<const unsigned char*>(yaml.data()),
      yaml.size());
  yaml_document_t doc;
  const bool loaded = yaml_parser_load(&parser, &doc);
  std::string error;
  if (!loaded) {
    error = absl::StrCat("line ", parser.problem_mark.line + 1, ", column ",
                         parser.problem_mark.column + 1, ": ",
                         parser.problem ? parser.problem : "malformed YAML");
  }
  yaml_parser_delete(&parser);
  // A failed load leaves no document to delete.
  if (!loaded) return Bad(source, error);
  LoadedDocument loaded_doc{doc};
  yaml_node_t* root = yaml_document_get_root_node(&loaded_doc.doc);
  if (root == nullptr) return Bad(source, "empty file");
  Value value;
  if (absl::Status s = Convert(&loaded_doc.doc, root, source, 0, &value);
      !s.ok()) {
    return s;
  }
  if (!value.has_struct_value()) {
    return Bad(source,
               "the top level must be a mapping (tenants:, "
               "route_hints:)");
  }
  std::string json;
  auto s = google::protobuf::util::MessageToJsonString(value, &json);
  if (!s.ok()) return Bad(source, s.ToString());
  return json;
}

absl::StatusOr<v1::ApplyConfigRequest> ParseApplyFile(
    absl::string_view text, FileFormat format, absl::string_view source) {
  v1::ApplyConfigRequest req;
  if (format == FileFormat::kText) {
    google::protobuf::TextFormat::Parser parser;
    TextErrors errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(std::string(text), &req)) {
      return Bad(source, errors.first());
    }
    return req;
  }
  std::string json(text);
  if (format == FileFormat::kYaml) {
    absl::StatusOr<std::string> converted = YamlToJson(text, source);
    if (!converted.ok()) return converted.status();
    json = *std::move(converted);
  }
  auto s = google::protobuf::util::JsonStringToMessage(json, &req);
  if (!s.ok()) {
    return Bad(source, absl::StrCat("not a grod.v1.ApplyConfigRequest: ",
                                    s.ToString()));
  }
  return req;
}

}  // namespace grod::cli
