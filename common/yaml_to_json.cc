#include "common/yaml_to_json.h"

#include <yaml.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace grod {
namespace {

constexpr size_t kMaxDepth = 64;

std::string At(size_t line0, size_t column0) {
  // libyaml counts from 0.
  return absl::StrCat("line ", line0 + 1, ", column ", column0 + 1);
}

absl::Status ErrorAt(const yaml_mark_t& mark, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(At(mark.line, mark.column), ": ", what));
}

absl::string_view Text(const yaml_char_t* s, size_t n) {
  return absl::string_view(reinterpret_cast<const char*>(s), n);
}

absl::string_view Text(const yaml_char_t* s) {
  return s == nullptr ? absl::string_view() : reinterpret_cast<const char*>(s);
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

absl::string_view ScalarText(const yaml_event_t& e) {
  return Text(e.data.scalar.value, e.data.scalar.length);
}

// YAML 1.2's core-schema nulls, only when not quoted.
bool IsNull(const yaml_event_t& e) {
  if (e.type != YAML_SCALAR_EVENT ||
      e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    return false;
  }
  const absl::string_view v = ScalarText(e);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

absl::string_view AnchorOf(const yaml_event_t& e) {
  switch (e.type) {
    case YAML_SCALAR_EVENT:
      return Text(e.data.scalar.anchor);
    case YAML_SEQUENCE_START_EVENT:
      return Text(e.data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
      return Text(e.data.mapping_start.anchor);
    default:
      return {};
  }
}

// Only a tag written in the file; libyaml leaves implicit ones null.
absl::string_view TagOf(const yaml_event_t& e) {
  switch (e.type) {
    case YAML_SCALAR_EVENT:
      return Text(e.data.scalar.tag);
    case YAML_SEQUENCE_START_EVENT:
      return Text(e.data.sequence_start.tag);
    case YAML_MAPPING_START_EVENT:
      return Text(e.data.mapping_start.tag);
    default:
      return {};
  }
}

// One open mapping or sequence.
struct Frame {
  bool mapping = false;
  bool expect_key = true;  // mappings: the next node is a key
  bool empty = true;       // nothing written inside yet
  size_t start = 0;        // offset of its '{' or '[' in the JSON
  std::string anchor;      // recorded under this name when it closes
  absl::flat_hash_map<std::string, size_t> key_lines;  // mappings
};

// Streams libyaml's events into JSON text: no document tree, so an alias
// costs its JSON once (capped) and every error has the event's position.
class Converter {
 public:
  Converter(size_t input_size, const YamlToJsonOptions& options)
      : options_(options), max_json_(16 * input_size + 64 * 1024) {}

  absl::Status Event(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents_ > 1) {
          return ErrorAt(e.start_mark,
                         "a second YAML document (after ---); the file "
                         "holds one");
        }
        return absl::OkStatus();
      case YAML_ALIAS_EVENT:
      case YAML_SCALAR_EVENT:
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        return Node(e);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        Close();
        return absl::OkStatus();
      case YAML_STREAM_END_EVENT:
        end_ = e.start_mark;
        return absl::OkStatus();
      default:
        return absl::OkStatus();
    }
  }

  absl::StatusOr<std::string> Finish() {
    if (!out_.empty()) return std::move(out_);
    if (options_.empty_is_empty_object) return std::string("{}");
    return ErrorAt(end_,
                   "empty: the file holds no YAML document (expected a mapping "
                   "of field: value lines)");
  }

 private:
  absl::Status Node(const yaml_event_t& e) {
    if (absl::string_view tag = TagOf(e); !tag.empty()) {
      return ErrorAt(e.start_mark,
                     absl::StrCat("explicit tag ", tag,
                                  ": tags are not supported (quote a value "
                                  "to make it a string)"));
    }
    if (stack_.empty()) {
      if (IsNull(e)) return absl::OkStatus();  // `---` alone, or `~`
      if (e.type != YAML_MAPPING_START_EVENT) {
        return ErrorAt(e.start_mark,
                       "the top level must be a mapping of field: value "
                       "lines");
      }
      return Value(e);
    }
    Frame& top = stack_.back();
    if (top.mapping) {
      if (top.expect_key) return Key(e, top);
      top.expect_key = true;  // Key() wrote the comma and the colon
    } else {
      if (!top.empty) out_.push_back(',');
      top.empty = false;
    }
    return Value(e);
  }

  absl::Status Key(const yaml_event_t& e, Frame& top) {
    if (e.type == YAML_ALIAS_EVENT) {
      return ErrorAt(e.start_mark, "an alias cannot be a key");
    }
    if (e.type != YAML_SCALAR_EVENT || IsNull(e)) {
      return ErrorAt(e.start_mark,
                     "a key must be a field name, not a mapping, a list or "
                     "null");
    }
    const absl::string_view name = ScalarText(e);
    if (name == "<<" && e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
      return ErrorAt(e.start_mark,
                     "merge keys (<<) are not supported; write the fields "
                     "out or repeat the whole value with an alias");
    }
    auto [it, inserted] = top.key_lines.emplace(name, e.start_mark.line + 1);
    if (!inserted) {
      return ErrorAt(e.start_mark,
                     absl::StrCat("key \"", name,
                                  "\" given twice in one mapping (first at "
                                  "line ",
                                  it->second, ")"));
    }
    if (!top.empty) out_.push_back(',');
    top.empty = false;
    top.expect_key = false;
    const size_t start = out_.size();
    AppendJsonString(name, &out_);
    Record(AnchorOf(e), start);
    out_.push_back(':');
    return absl::OkStatus();
  }

  absl::Status Value(const yaml_event_t& e) {
    const size_t start = out_.size();
    switch (e.type) {
      case YAML_ALIAS_EVENT: {
        const absl::string_view name = Text(e.data.alias.anchor);
        auto it = anchors_.find(name);
        if (it == anchors_.end()) {
          return ErrorAt(e.start_mark,
                         absl::StrCat("alias *", name, " names no anchor (&",
                                      name, ") defined before it"));
        }
        if (out_.size() + it->second.size() > max_json_) {
          return ErrorAt(e.start_mark,
                         absl::StrCat("aliases expand the file to more than ",
                                      max_json_, " bytes of JSON"));
        }
        out_.append(it->second);
        return absl::OkStatus();
      }
      case YAML_SCALAR_EVENT:
        if (IsNull(e)) {
          out_.append("null");
        } else {
          AppendJsonString(ScalarText(e), &out_);
        }
        Record(AnchorOf(e), start);
        return absl::OkStatus();
      default: {  // a mapping or sequence starts
        if (stack_.size() >= kMaxDepth) {
          return ErrorAt(e.start_mark, absl::StrCat("nested deeper than ",
                                                    kMaxDepth, " levels"));
        }
        Frame f;
        f.mapping = e.type == YAML_MAPPING_START_EVENT;
        f.start = start;
        f.anchor = std::string(AnchorOf(e));
        out_.push_back(f.mapping ? '{' : '[');
        stack_.push_back(std::move(f));
        return absl::OkStatus();
      }
    }
  }

  void Close() {
    out_.push_back(stack_.back().mapping ? '}' : ']');
    Record(stack_.back().anchor, stack_.back().start);
    stack_.pop_back();
  }

  // An anchor names the JSON written since `start`; a later one of the same
  // name replaces it (as YAML says).
  void Record(absl::string_view anchor, size_t start) {
    if (!anchor.empty()) anchors_[anchor] = out_.substr(start);
  }

  const YamlToJsonOptions options_;
  const size_t max_json_;
  int documents_ = 0;
  yaml_mark_t end_ = {};
  std::string out_;
  std::vector<Frame> stack_;
  absl::flat_hash_map<std::string, std::string> anchors_;
};

// libyaml's reader reports a byte offset only (bad UTF-8): count the lines.
yaml_mark_t MarkOfOffset(absl::string_view yaml, size_t offset) {
  offset = std::min(offset, yaml.size());
  yaml_mark_t m = {};
  m.index = offset;
  const absl::string_view before = yaml.substr(0, offset);
  m.line = std::count(before.begin(), before.end(), '\n');
  const size_t nl = before.rfind('\n');
  m.column = nl == absl::string_view::npos ? offset : offset - nl - 1;
  return m;
}

absl::Status ParserError(const yaml_parser_t& p, absl::string_view yaml) {
  if (p.error == YAML_MEMORY_ERROR) {
    return absl::ResourceExhaustedError("YAML: out of memory");
  }
  const yaml_mark_t mark = p.error == YAML_READER_ERROR
                               ? MarkOfOffset(yaml, p.problem_offset)
                               : p.problem_mark;
  std::string what = p.problem ? p.problem : "YAML syntax error";
  if (p.context) absl::StrAppend(&what, " (", p.context, ")");
  if (mark.index < yaml.size() && yaml[mark.index] == '\t') {
    absl::StrAppend(&what, "; a tab cannot indent YAML, use spaces");
  }
  return ErrorAt(mark, what);
}

}  // namespace

absl::StatusOr<std::string> YamlToJson(absl::string_view yaml,
                                       const YamlToJsonOptions& options) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    return absl::ResourceExhaustedError("YAML: cannot create a parser");
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(
      &parser, yaml_parser_delete);
  yaml_parser_set_input_string(
      &parser, reinterpret_cast<const unsigned char*>(yaml.data()),
      yaml.size());
  Converter converter(yaml.size(), options);
  for (;;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) return ParserError(parser, yaml);
    const absl::Status s = converter.Event(event);
    const bool end = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
    if (!s.ok()) return s;
    if (end) break;
  }
  return converter.Finish();
}

}  // namespace grod
