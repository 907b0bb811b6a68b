// How grocli prints: aligned tables for people; for scripts the resource
// itself as one-line protobuf JSON, YAML or text format (-o); and the short
// spellings shared with parse.h.
#ifndef GROD_CLI_OUTPUT_H_
#define GROD_CLI_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void Add(std::vector<std::string> row);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] = headers
};

enum class OutputFormat { kTable, kJson, kYaml, kTextproto };

// "table", "json", "yaml", "textproto"; anything else is INVALID_ARGUMENT.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// `message` in a structured format (not kTable): JSON on one line, YAML as
// one block document, text format as protoc writes it.
void PrintMessage(const google::protobuf::Message& message, OutputFormat format,
                  std::ostream& out);

// Canonical proto3 JSON (lowerCamelCase, zero values included) on one
// line, so `--watch -o json` is newline-delimited JSON.
void PrintJson(const google::protobuf::Message& message, std::ostream& out);

std::string ModeText(int mode);     // "merge", "list", "bypass"
std::string GroTypeText(int type);  // "tcp4", ...
std::string DurationText(const google::protobuf::Duration& d);  // "200us"
std::string FlushText(const v1::FlushPolicy& p);         // "timeout 200us"
std::string SelectorText(const v1::TrafficSelector& s);  // "port=0,vlan=10"

}  // namespace grod::cli

#endif  // GROD_CLI_OUTPUT_H_
