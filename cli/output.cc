#include "cli/output.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/yaml.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace grod::cli {

Table::Table(std::vector<std::string> headers) {
  rows_.push_back(std::move(headers));
}

void Table::Add(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) {
        line.append(width[i] - row[i].size() + 2, ' ');
      }
    }
    out << line << "\n";
  }
}

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, opts);
  out << json << "\n";
}

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "textproto") return OutputFormat::kTextproto;
  return absl::InvalidArgumentError(
      absl::StrCat("-o ", text, ": expected table, json, yaml or textproto"));
}

void PrintMessage(const google::protobuf::Message& message, OutputFormat format,
                  std::ostream& out) {
  switch (format) {
    case OutputFormat::kTable:
    case OutputFormat::kJson:
      PrintJson(message, out);
      return;
    case OutputFormat::kYaml: {
      google::protobuf::util::JsonPrintOptions opts;
      opts.always_print_primitive_fields = true;
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(message, &json, opts);
      // protobuf's printer writes valid JSON; the reader cannot fail on it.
      absl::StatusOr<std::string> yaml = JsonToYaml(json);
      out << (yaml.ok() ? *yaml : json + "\n");
      return;
    }
    case OutputFormat::kTextproto: {
      std::string text;
      google::protobuf::TextFormat::PrintToString(message, &text);
      out << text;
      return;
    }
  }
}

std::string ModeText(int mode) {
  switch (mode) {
    case v1::GRO_MODE_MERGE:
      return "merge";
    case v1::GRO_MODE_LIST:
      return "list";
    case v1::GRO_MODE_BYPASS:
      return "bypass";
    default:
      return "-";
  }
}

std::string GroTypeText(int type) {
  if (!v1::GroType_IsValid(type) || type == v1::GRO_TYPE_UNSPECIFIED) {
    return absl::StrCat(type);
  }
  return absl::AsciiStrToLower(
      v1::GroType_Name(static_cast<v1::GroType>(type)).substr(9));
}

std::string DurationText(const google::protobuf::Duration& d) {
  return absl::FormatDuration(absl::Seconds(d.seconds()) +
                              absl::Nanoseconds(d.nanos()));
}

std::string FlushText(const v1::FlushPolicy& p) {
  switch (p.kind()) {
    case v1::FLUSH_KIND_TIMEOUT:
      return absl::StrCat("timeout ", DurationText(p.timeout()));
    case v1::FLUSH_KIND_ADAPTIVE:
      return absl::StrCat("adaptive ", DurationText(p.timeout()));
    default:
      return "per-burst";
  }
}

std::string SelectorText(const v1::TrafficSelector& s) {
  std::vector<std::string> parts;
  if (s.has_port_id()) parts.push_back(absl::StrCat("port=", s.port_id()));
  if (s.has_vlan_id()) parts.push_back(absl::StrCat("vlan=", s.vlan_id()));
  if (s.has_vni()) parts.push_back(absl::StrCat("vni=", s.vni()));
  return parts.empty() ? "*" : absl::StrJoin(parts, ",");
}

}  // namespace grod::cli
