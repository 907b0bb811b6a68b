#include "cli/apply_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/yaml_to_json.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace grod::cli {

namespace {

absl::Status Bad(absl::string_view source, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
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
    // An empty desired state would delete every tenant: an error here.
    absl::StatusOr<std::string> converted = YamlToJson(text);
    if (!converted.ok()) return Bad(source, converted.status().message());
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
