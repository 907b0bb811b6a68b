#include "controlplane/auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace grod::controlplane {

namespace {

// Compares in time independent of where the strings differ, so response
// timing does not reveal how much of a guessed secret was right.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read credentials file ", path));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return FromText(buf.str(), path);
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromText(
    absl::string_view text, absl::string_view source) {
  auto auth = std::make_unique<Authorizer>();
  auth->enabled_ = true;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        colon + 1 == line.size()) {
      return absl::InvalidArgumentError(absl::StrCat("credentials file ",
                                                     source, " line ", line_no,
                                                     ": expected name:secret"));
    }
    std::string name(line.substr(0, colon));
    std::string secret(line.substr(colon + 1));
    for (const auto& [other_name, other_secret] : auth->entries_) {
      if (other_secret == secret) {
        return absl::InvalidArgumentError(
            absl::StrCat("credentials file ", source, " line ", line_no,
                         ": same secret as ", other_name));
      }
    }
    auth->entries_.emplace_back(std::move(name), std::move(secret));
  }
  if (auth->entries_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("credentials file ", source, " has no credentials"));
  }
  return auth;
}

absl::StatusOr<Principal> Authorizer::Authenticate(
    std::optional<absl::string_view> authorization) const {
  if (!enabled_) return Principal{"anonymous", true};
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "missing credential (send \"authorization: Bearer <secret>\")");
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  if (!absl::ConsumePrefix(&value, "Bearer ") &&
      !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError(
        "authorization must be \"Bearer <secret>\"");
  }
  value = absl::StripAsciiWhitespace(value);
  const Principal* found = nullptr;
  Principal p;
  // Visit every entry whatever matches, for the same timing reason.
  for (const auto& [name, secret] : entries_) {
    if (ConstantTimeEquals(value, secret) && found == nullptr) {
      p = Principal{name, name == "admin"};
      found = &p;
    }
  }
  if (found == nullptr) return absl::UnauthenticatedError("invalid credential");
  return p;
}

absl::Status Authorizer::CheckTenant(const Principal& p,
                                     absl::string_view tenant) {
  if (p.admin || p.name == tenant) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("credential ", p.name, " may only access tenant ", p.name));
}

}  // namespace grod::controlplane
