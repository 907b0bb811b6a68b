#include "cli/parse.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace grod::cli {

absl::StatusOr<v1::GroMode> ParseMode(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "merge") return v1::GRO_MODE_MERGE;
  if (t == "list") return v1::GRO_MODE_LIST;
  if (t == "bypass") return v1::GRO_MODE_BYPASS;
  return absl::InvalidArgumentError(
      absl::StrCat("mode \"", text, "\": expected merge, list or bypass"));
}

absl::StatusOr<v1::FlushKind> ParseFlushKind(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "per-burst" || t == "per_burst") return v1::FLUSH_KIND_PER_BURST;
  if (t == "timeout") return v1::FLUSH_KIND_TIMEOUT;
  if (t == "adaptive") return v1::FLUSH_KIND_ADAPTIVE;
  return absl::InvalidArgumentError(absl::StrCat(
      "flush kind \"", text, "\": expected per-burst, timeout or adaptive"));
}

absl::StatusOr<std::vector<v1::GroType>> ParseGroTypes(absl::string_view text) {
  std::vector<v1::GroType> out;
  if (absl::AsciiStrToLower(text) == "all") return out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(part));
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    v1::GroType t;
    if (!v1::GroType_Parse(absl::StrCat("GRO_TYPE_", name), &t) ||
        t == v1::GRO_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(
          "GRO type \"", part,
          "\": expected tcp4, tcp6, udp4, udp6, ipv4-frag, vxlan or all"));
    }
    out.push_back(t);
  }
  return out;
}

absl::StatusOr<uint32_t> ParseUint(absl::string_view text,
                                   absl::string_view what) {
  uint32_t v = 0;
  if (!absl::SimpleAtoi(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", text, "\" is not a non-negative number"));
  }
  return v;
}

absl::StatusOr<v1::TrafficSelector> ParseSelector(absl::string_view text) {
  v1::TrafficSelector s;
  if (text == "*") return s;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    const std::string what = absl::StrCat("--selector ", kv.first);
    absl::StatusOr<uint32_t> v = ParseUint(kv.second, what);
    if (!v.ok()) return v.status();
    if (kv.first == "port") {
      s.set_port_id(*v);
    } else if (kv.first == "vlan") {
      s.set_vlan_id(*v);
    } else if (kv.first == "vni") {
      s.set_vni(*v);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--selector: unknown key \"", kv.first, "\" (port, vlan, vni)"));
    }
  }
  return s;
}

absl::StatusOr<google::protobuf::Duration> ParseProtoDuration(
    absl::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration \"", text, "\": expected e.g. 200us, 5ms, 1s"));
  }
  google::protobuf::Duration out;
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out.set_seconds(ns / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return out;
}

absl::StatusOr<std::vector<v1::RouteHint>> ParseHintLines(
    absl::string_view text, absl::string_view source) {
  std::vector<v1::RouteHint> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    if (words.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_no, ": expected \"PREFIX MODE\""));
    }
    absl::StatusOr<v1::GroMode> mode = ParseMode(words[1]);
    if (!mode.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_no, ": ", mode.status().message()));
    }
    v1::RouteHint h;
    h.set_prefix(std::string(words[0]));
    h.set_mode(*mode);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace grod::cli
