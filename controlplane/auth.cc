#include "controlplane/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "controlplane/validate.h"

namespace grod::controlplane {

namespace {

constexpr size_t kMinSecretBytes = 16;

absl::Status LineError(absl::string_view source, int line_no,
                       absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("credentials file ", source, " line ", line_no, ": ", what));
}

std::optional<Role> ParseRole(absl::string_view word) {
  if (word == "admin") return Role::kAdmin;
  if (word == "tenant") return Role::kTenant;
  if (word == "read-only") return Role::kReadOnly;
  return std::nullopt;
}

bool HasWhitespace(absl::string_view s) {
  for (char c : s) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

}  // namespace

SecretDigest Sha256(absl::string_view data) {
  SecretDigest d;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         d.data());
  return d;
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kTenant:
      return "tenant";
    case Role::kReadOnly:
      return "read-only";
  }
  return "unknown";
}

absl::StatusOr<std::shared_ptr<const Authorizer::Table>> Authorizer::Parse(
    absl::string_view text, absl::string_view source) {
  auto table = std::make_shared<Table>();
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ':');
    if (fields.size() < 2 || fields.size() > 3 || fields[0].empty() ||
        fields[1].empty()) {
      return LineError(source, line_no,
                       "expected name:secret or name:secret:role (secrets "
                       "may not contain ':')");
    }
    const absl::string_view name = fields[0], secret = fields[1];
    Role role = name == "admin" ? Role::kAdmin : Role::kTenant;
    if (fields.size() == 3) {
      std::optional<Role> r = ParseRole(fields[2]);
      if (!r.has_value()) {
        return LineError(source, line_no,
                         absl::StrCat("unknown role '", fields[2],
                                      "' (admin, tenant or read-only)"));
      }
      role = *r;
    }
    if (name == "admin" && role != Role::kAdmin) {
      return LineError(source, line_no,
                       "the name admin is reserved for admin credentials");
    }
    if (role == Role::kTenant) {
      if (absl::Status s = ValidateTenantName(name, "name"); !s.ok()) {
        return LineError(source, line_no,
                         absl::StrCat("tenant credential ", s.message()));
      }
    } else if (HasWhitespace(name)) {
      return LineError(source, line_no, "name may not contain whitespace");
    }
    if (secret.size() < kMinSecretBytes || HasWhitespace(secret)) {
      return LineError(
          source, line_no,
          absl::StrCat("the secret of ", name, " must be at least ",
                       kMinSecretBytes,
                       " bytes without whitespace (generate one with "
                       "'openssl rand -hex 32')"));
    }
    Entry e{std::string(name), role, Sha256(secret)};
    for (const Entry& other : *table) {
      if (other.digest == e.digest) {
        return LineError(source, line_no,
                         absl::StrCat("same secret as ", other.name));
      }
    }
    table->push_back(std::move(e));
  }
  if (table->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("credentials file ", source, " has no credentials"));
  }
  return table;
}

absl::StatusOr<std::shared_ptr<const Authorizer::Table>> Authorizer::ReadFile(
    const std::string& path) {
  std::ifstream in(path);
  struct stat st;
  if (!in || stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read credentials file ",
                                            path, ": ", std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "credentials file %s is accessible by group or others (mode %04o); "
        "run: chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return Parse(buf.str(), path);
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromFile(
    const std::string& path) {
  absl::StatusOr<std::shared_ptr<const Table>> table = ReadFile(path);
  if (!table.ok()) return table.status();
  auto auth = std::make_unique<Authorizer>();
  auth->enabled_ = true;
  auth->path_ = path;
  auth->table_ = *std::move(table);
  return auth;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromText(
    absl::string_view text, absl::string_view source) {
  absl::StatusOr<std::shared_ptr<const Table>> table = Parse(text, source);
  if (!table.ok()) return table.status();
  auto auth = std::make_unique<Authorizer>();
  auth->enabled_ = true;
  auth->table_ = *std::move(table);
  return auth;
}

absl::StatusOr<size_t> Authorizer::Reload() {
  if (path_.empty()) {
    return absl::FailedPreconditionError("no credentials file to reload");
  }
  absl::StatusOr<std::shared_ptr<const Table>> table = ReadFile(path_);
  if (!table.ok()) return table.status();
  const size_t n = (*table)->size();
  absl::MutexLock l(&mu_);
  table_ = *std::move(table);
  return n;
}

std::shared_ptr<const Authorizer::Table> Authorizer::table() const {
  absl::ReaderMutexLock l(&mu_);
  return table_;
}

absl::StatusOr<Principal> Authorizer::Authenticate(
    std::optional<absl::string_view> authorization) const {
  if (!enabled_) return Principal{"anonymous", Role::kAdmin};
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
  const SecretDigest presented = Sha256(absl::StripAsciiWhitespace(value));
  const std::shared_ptr<const Table> table = this->table();
  // Fixed-size digests compared with CRYPTO_memcmp against every entry,
  // whatever matches: the time depends on neither the secrets' content nor
  // their length, nor on which entry matched.
  const Entry* found = nullptr;
  for (const Entry& e : *table) {
    const bool equal =
        CRYPTO_memcmp(e.digest.data(), presented.data(), presented.size()) == 0;
    if (equal && found == nullptr) found = &e;
  }
  if (found == nullptr) return absl::UnauthenticatedError("invalid credential");
  return Principal{found->name, found->role};
}

absl::Status Authorizer::Permit(const Principal& p, Access access,
                                absl::string_view method,
                                absl::string_view tenant) {
  const bool own = p.role == Role::kTenant && p.name == tenant;
  bool ok = false;
  const char* needs = "";
  switch (access) {
    case Access::kInfo:
      ok = true;
      break;
    case Access::kReadAll:
      ok = p.role != Role::kTenant;
      needs = "an admin or read-only credential";
      break;
    case Access::kReadTenant:
      ok = p.role != Role::kTenant || own;
      needs = "an admin or read-only credential, or that tenant's own";
      break;
    case Access::kTuneTenant:
      ok = p.role == Role::kAdmin || own;
      needs = "an admin credential or that tenant's own";
      break;
    case Access::kAdmin:
      ok = p.role == Role::kAdmin;
      needs = "an admin credential";
      break;
  }
  if (ok) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "credential ", p.name, " (role ", RoleName(p.role), ") may not call ",
      method, tenant.empty() ? "" : absl::StrCat(" on tenant ", tenant),
      ": needs ", needs));
}

}  // namespace grod::controlplane
