#include "cli/yaml.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace grod::cli {

namespace {

// A parsed JSON value. Objects keep their members in document order (a map
// would sort protobuf's fields by name).
struct Node {
  enum Kind { kObject, kArray, kString, kLiteral } kind = kLiteral;
  std::vector<std::pair<std::string, Node>> members;  // kObject
  std::vector<Node> items;                            // kArray
  std::string text;  // kString: decoded; kLiteral: number/true/false/null
};

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as RFC 8259 has it.
bool IsJsonNumber(absl::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < t.size() && absl::ascii_isdigit(t[i])) ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.' && (++i, !digits())) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

class JsonReader {
 public:
  explicit JsonReader(absl::string_view in) : in_(in) {}

  absl::StatusOr<Node> Document() {
    absl::StatusOr<Node> n = Value(0);
    if (!n.ok()) return n;
    SkipSpace();
    if (pos_ != in_.size()) return Error("trailing characters");
    return n;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON at offset ", pos_, ": ", what));
  }
  void SkipSpace() {
    while (pos_ < in_.size() && absl::ascii_isspace(in_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::StatusOr<Node> Value(int depth) {
    if (depth > 64) return Error("nested too deeply");
    SkipSpace();
    if (pos_ >= in_.size()) return Error("value expected");
    Node n;
    const char c = in_[pos_];
    if (c == '{') {
      ++pos_;
      n.kind = Node::kObject;
      if (Consume('}')) return n;
      do {
        SkipSpace();
        absl::StatusOr<std::string> key = String();
        if (!key.ok()) return key.status();
        if (!Consume(':')) return Error("':' expected");
        absl::StatusOr<Node> v = Value(depth + 1);
        if (!v.ok()) return v;
        n.members.emplace_back(std::move(*key), std::move(*v));
      } while (Consume(','));
      if (!Consume('}')) return Error("'}' expected");
      return n;
    }
    if (c == '[') {
      ++pos_;
      n.kind = Node::kArray;
      if (Consume(']')) return n;
      do {
        absl::StatusOr<Node> v = Value(depth + 1);
        if (!v.ok()) return v;
        n.items.push_back(std::move(*v));
      } while (Consume(','));
      if (!Consume(']')) return Error("']' expected");
      return n;
    }
    if (c == '"') {
      absl::StatusOr<std::string> s = String();
      if (!s.ok()) return s.status();
      n.kind = Node::kString;
      n.text = std::move(*s);
      return n;
    }
    // Numbers, true, false, null: kept as written (valid YAML as they are).
    const size_t start = pos_;
    while (pos_ < in_.size() &&
           (absl::ascii_isalnum(in_[pos_]) || in_[pos_] == '-' ||
            in_[pos_] == '+' || in_[pos_] == '.')) {
      ++pos_;
    }
    n.text = std::string(in_.substr(start, pos_ - start));
    if (n.text != "true" && n.text != "false" && n.text != "null" &&
        !IsJsonNumber(n.text)) {
      pos_ = start;
      return Error("value expected");
    }
    return n;
  }

  // A JSON string at pos_, decoded to UTF-8.
  absl::StatusOr<std::string> String() {
    if (pos_ >= in_.size() || in_[pos_] != '"') return Error("'\"' expected");
    ++pos_;
    std::string out;
    while (pos_ < in_.size() && in_[pos_] != '"') {
      char c = in_[pos_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) break;
      c = in_[pos_++];
      switch (c) {
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          absl::StatusOr<uint32_t> cp = CodePoint();
          if (!cp.ok()) return cp.status();
          AppendUtf8(*cp, &out);
          break;
        }
        default:
          out.push_back(c);  // '"', '\\', '/'
      }
    }
    if (pos_ >= in_.size()) return Error("unterminated string");
    ++pos_;
    return out;
  }

  // After "\u": one code point, joining a UTF-16 surrogate pair.
  absl::StatusOr<uint32_t> CodePoint() {
    absl::StatusOr<uint32_t> hi = Hex4();
    if (!hi.ok() || *hi < 0xD800 || *hi > 0xDBFF) return hi;
    if (in_.substr(pos_, 2) != "\\u") return Error("lone surrogate");
    pos_ += 2;
    absl::StatusOr<uint32_t> lo = Hex4();
    if (!lo.ok()) return lo;
    if (*lo < 0xDC00 || *lo > 0xDFFF) return Error("bad surrogate pair");
    return 0x10000 + ((*hi - 0xD800) << 10) + (*lo - 0xDC00);
  }
  absl::StatusOr<uint32_t> Hex4() {
    uint32_t v = 0;
    if (pos_ + 4 > in_.size() ||
        !absl::SimpleHexAtoi(in_.substr(pos_, 4), &v)) {
      return Error("bad \\u escape");
    }
    pos_ += 4;
    return v;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::string_view in_;
  size_t pos_ = 0;
};

// A plain (unquoted) scalar only when no YAML 1.1 or 1.2 reader could take
// it for a number, boolean, null, timestamp or syntax: a letter first, then
// letters, digits and "_.-/", and not a boolean/null word.
bool PlainSafe(const std::string& s) {
  if (s.empty() || !absl::ascii_isalpha(s[0])) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-' &&
        c != '/') {
      return false;
    }
  }
  const std::string lower = absl::AsciiStrToLower(s);
  for (const char* word :
       {"true", "false", "yes", "no", "on", "off", "y", "n", "null"}) {
    if (lower == word) return false;
  }
  return true;
}

// Code points YAML readers fold as line breaks (NEL, LS, PS) or reject as
// non-printable (C1 controls, BOM, U+FFFE/FFFF): escaped as \uXXXX.
bool MustEscape(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

// Length of the UTF-8 sequence at s[i] and its code point; 1 and the byte
// itself when it is not a valid sequence start.
size_t DecodeUtf8(const std::string& s, size_t i, uint32_t* cp) {
  const unsigned char c = s[i];
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (len == 1 || i + len > s.size()) {
    *cp = c;
    return 1;
  }
  *cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    *cp = (*cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  return len;
}

std::string Scalar(const std::string& s) {
  if (PlainSafe(s)) return s;
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    if (c >= 0x80) {
      uint32_t cp;
      const size_t len = DecodeUtf8(s, i, &cp);
      if (MustEscape(cp)) {
        absl::StrAppendFormat(&out, "\\u%04x", cp);
      } else {
        out.append(s, i, len);
      }
      i += len;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

// The text after "key:" or "- " when the value fits on that line;
// empty for a non-empty object or array (they continue on the next lines).
std::string Inline(const Node& n) {
  switch (n.kind) {
    case Node::kString:
      return Scalar(n.text);
    case Node::kLiteral:
      return n.text;
    case Node::kObject:
      return n.members.empty() ? "{}" : "";
    case Node::kArray:
      return n.items.empty() ? "[]" : "";
  }
  return "";
}

void EmitNode(const Node& n, int indent, bool first_line_done,
              std::string* out);

// Members at `indent`; with `first_line_done` the first one continues a
// line that already holds "- ".
void EmitObject(const Node& n, int indent, bool first_line_done,
                std::string* out) {
  for (size_t i = 0; i < n.members.size(); ++i) {
    const auto& [key, value] = n.members[i];
    if (i > 0 || !first_line_done) out->append(indent, ' ');
    absl::StrAppend(out, Scalar(key), ":");
    const std::string inline_text = Inline(value);
    if (!inline_text.empty()) {
      absl::StrAppend(out, " ", inline_text, "\n");
    } else {
      out->push_back('\n');
      // A sequence under a key may sit at the key's indent (kubectl style).
      EmitNode(value, value.kind == Node::kArray ? indent : indent + 2, false,
               out);
    }
  }
}

void EmitArray(const Node& n, int indent, bool first_line_done,
               std::string* out) {
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Node& item = n.items[i];
    if (i > 0 || !first_line_done) out->append(indent, ' ');
    out->append("- ");
    const std::string inline_text = Inline(item);
    if (!inline_text.empty()) {
      absl::StrAppend(out, inline_text, "\n");
    } else {
      EmitNode(item, indent + 2, /*first_line_done=*/true, out);
    }
  }
}

void EmitNode(const Node& n, int indent, bool first_line_done,
              std::string* out) {
  if (n.kind == Node::kObject) {
    EmitObject(n, indent, first_line_done, out);
  } else {
    EmitArray(n, indent, first_line_done, out);
  }
}

}  // namespace

absl::StatusOr<std::string> JsonToYaml(absl::string_view json) {
  absl::StatusOr<Node> root = JsonReader(json).Document();
  if (!root.ok()) return root.status();
  const std::string inline_text = Inline(*root);
  if (!inline_text.empty()) return absl::StrCat(inline_text, "\n");
  std::string out;
  EmitNode(*root, 0, false, &out);
  return out;
}

}  // namespace grod::cli
