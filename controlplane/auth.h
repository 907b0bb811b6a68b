// Bearer-token authorization for the gRPC API.
//
// Credentials come from a file of "name:secret" lines ('#' comments and
// blank lines allowed). A client sends "authorization: Bearer <secret>".
// The name "admin" may do anything; any other name is a tenant credential
// limited to the tenant of that name. Secrets are never logged or echoed in
// errors.
#ifndef GROD_CONTROLPLANE_AUTH_H_
#define GROD_CONTROLPLANE_AUTH_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grod::controlplane {

struct Principal {
  std::string name;  // "admin", a tenant name, or "anonymous" (auth off)
  bool admin = false;
};

class Authorizer {
 public:
  // Authorization off: everyone is an anonymous admin.
  Authorizer() = default;
  // Reads a credentials file; errors name the file and line, not the secret.
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromText(
      absl::string_view text, absl::string_view source);

  bool enabled() const { return enabled_; }

  // `authorization` is the header value, if the client sent one.
  // UNAUTHENTICATED if auth is on and it is missing or unknown.
  absl::StatusOr<Principal> Authenticate(
      std::optional<absl::string_view> authorization) const;

  // PERMISSION_DENIED unless `p` may act on `tenant`.
  static absl::Status CheckTenant(const Principal& p, absl::string_view tenant);

 private:
  bool enabled_ = false;
  std::vector<std::pair<std::string, std::string>> entries_;  // name, secret
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_AUTH_H_
