#include "grod/yaml_to_json.h"

#include <yaml.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace grod {
namespace {

constexpr int kMaxDepth = 64;

std::string At(const yaml_mark_t& mark) {
  // libyaml counts from 0.
  return absl::StrCat("line ", mark.line + 1, ", column ", mark.column + 1);
}

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));  // UTF-8 passes as is
        }
    }
  }
  out->push_back('"');
}

bool IsNull(const yaml_node_t& n) {
  if (n.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const absl::string_view v(reinterpret_cast<const char*>(n.data.scalar.value),
                            n.data.scalar.length);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

class Converter {
 public:
  explicit Converter(yaml_document_t* doc) : doc_(doc) {}

  absl::Status Node(int id, int depth, std::string* out) {
    const yaml_node_t* n = yaml_document_get_node(doc_, id);
    if (n == nullptr) return absl::InternalError("YAML: dangling node");
    if (depth > kMaxDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          At(n->start_mark), ": nested deeper than ", kMaxDepth, " levels"));
    }
    switch (n->type) {
      case YAML_SCALAR_NODE:
        if (IsNull(*n)) {
          out->append("null");
        } else {
          AppendJsonString(absl::string_view(reinterpret_cast<const char*>(
                                                 n->data.scalar.value),
                                             n->data.scalar.length),
                           out);
        }
        return absl::OkStatus();
      case YAML_SEQUENCE_NODE: {
        out->push_back('[');
        for (yaml_node_item_t* i = n->data.sequence.items.start;
             i < n->data.sequence.items.top; ++i) {
          if (i != n->data.sequence.items.start) out->push_back(',');
          if (absl::Status s = Node(*i, depth + 1, out); !s.ok()) return s;
        }
        out->push_back(']');
        return absl::OkStatus();
      }
      case YAML_MAPPING_NODE: {
        out->push_back('{');
        for (yaml_node_pair_t* p = n->data.mapping.pairs.start;
             p < n->data.mapping.pairs.top; ++p) {
          if (p != n->data.mapping.pairs.start) out->push_back(',');
          const yaml_node_t* key = yaml_document_get_node(doc_, p->key);
          if (key == nullptr || key->type != YAML_SCALAR_NODE || IsNull(*key)) {
            return absl::InvalidArgumentError(
                absl::StrCat(At(key ? key->start_mark : n->start_mark),
                             ": a key must be a field name"));
          }
          AppendJsonString(absl::string_view(reinterpret_cast<const char*>(
                                                 key->data.scalar.value),
                                             key->data.scalar.length),
                           out);
          out->push_back(':');
          if (absl::Status s = Node(p->value, depth + 1, out); !s.ok()) {
            return s;
          }
        }
        out->push_back('}');
        return absl::OkStatus();
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(At(n->start_mark), ": empty YAML node"));
    }
  }

 private:
  yaml_document_t* const doc_;
};

absl::Status ParserError(const yaml_parser_t& p) {
  return absl::InvalidArgumentError(absl::StrCat(
      At(p.problem_mark), ": ", p.problem ? p.problem : "YAML syntax error",
      p.context ? absl::StrCat(" (", p.context, ")") : ""));
}

}  // namespace

absl::StatusOr<std::string> YamlToJson(const std::string& yaml) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    return absl::ResourceExhaustedError("YAML: cannot create a parser");
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(
      &parser, yaml_parser_delete);
  yaml_parser_set_input_string(
      &parser, reinterpret_cast<const unsigned char*>(yaml.data()),
      yaml.size());
  yaml_document_t doc;
  if (!yaml_parser_load(&parser, &doc)) return ParserError(parser);
  std::unique_ptr<yaml_document_t, void (*)(yaml_document_t*)> doc_guard(
      &doc, yaml_document_delete);
  const yaml_node_t* root = yaml_document_get_root_node(&doc);
  if (root == nullptr) return std::string("{}");  // an empty file

  yaml_document_t next;
  if (!yaml_parser_load(&parser, &next)) return ParserError(parser);
  const bool more = yaml_document_get_root_node(&next) != nullptr;
  const yaml_mark_t second = next.start_mark;
  yaml_document_delete(&next);
  if (more) {
    return absl::InvalidArgumentError(
        absl::StrCat(At(second),
                     ": a second YAML document; a config file "
                     "holds one"));
  }
  std::string json;
  if (absl::Status s = Converter(&doc).Node(1, 0, &json); !s.ok()) return s;
  return json;
}

}  // namespace grod
