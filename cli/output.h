// How grocli prints: aligned tables for people, one-line protobuf JSON
// (-o json) for scripts, and the short spellings shared with parse.h.
#ifndef GROD_CLI_OUTPUT_H_
#define GROD_CLI_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

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
