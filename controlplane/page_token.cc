#include "controlplane/page_token.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace grod::controlplane {

namespace {
// Fields are joined with a byte that names, prefixes and scopes never hold.
constexpr char kSep = '\x1f';
constexpr absl::string_view kVersion = "p1";
}  // namespace

std::string EncodePageToken(absl::string_view list, absl::string_view scope,
                            absl::string_view last_key) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kVersion, std::string(1, kSep), list, std::string(1, kSep),
                   scope, std::string(1, kSep), last_key));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view list,
                                            absl::string_view scope) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, kSep);
  if (parts.size() != 4 || parts[0] != kVersion) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  if (parts[1] != list || parts[2] != scope) {
    return absl::InvalidArgumentError(
        "page_token: issued for a different list or tenant");
  }
  return parts[3];
}

}  // namespace grod::controlplane
