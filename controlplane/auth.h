// Bearer-token authentication and role-based authorization for the gRPC API.
//
// Credentials file (security.credentials_file): one credential per line,
// '#' comments and blank lines allowed:
//
//   NAME:SECRET          "admin" is an admin credential; any other NAME is a
//                        tenant credential for the tenant NAME (the format
//                        grod always had).
//   NAME:SECRET:ROLE     ROLE is admin, tenant or read-only. For tenant,
//                        NAME is the tenant; for admin and read-only it is a
//                        label that shows up in logs (e.g. alice, prometheus).
//
// Roles:
//   admin      every call.
//   tenant     reads its own tenant (GetTenant, ListTenants, GetFlushPolicy,
//              ListRouteHints, GetStats, WatchStats) and tunes it (flush
//              policy, route hints, gro_types, default_mode). Selectors,
//              quotas, CreateTenant and DeleteTenant are admin-only: they
//              decide whose traffic a tenant gets and what it may use.
//   read-only  every read (GetInfo, ListPorts, Get/List*, stats, watch) of
//              every tenant and port; no change. For dashboards/monitoring.
// GetInfo is open to every role.
//
// Secrets: at least 16 bytes, no ':' or whitespace, unique across the file.
// A NAME may have several lines (e.g. old and new secret during rotation).
// The file must not be readable or writable by group or others (mode 0600
// or 0400); grod refuses to start otherwise and names the file and line of
// every problem, never a secret.
//
// A client sends "authorization: Bearer <secret>". Only SHA-256 digests of
// secrets are kept; a presented token is hashed and compared against every
// entry in constant time, so neither the content nor the length of a secret
// leaks through timing. Reload() re-reads the file (SIGHUP); on error the
// old credentials stay in force.
#ifndef GROD_CONTROLPLANE_AUTH_H_
#define GROD_CONTROLPLANE_AUTH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace grod::controlplane {

// Legacy "admin:SECRET" lines mean the admin, so no tenant may be named so.
inline constexpr char kReservedTenantName[] = "admin";

enum class Role { kAdmin, kTenant, kReadOnly };

// "admin", "tenant", "read-only".
absl::string_view RoleName(Role role);

struct Principal {
  std::string name;  // admin label, tenant name, or "anonymous" (auth off)
  Role role = Role::kAdmin;
  // May see every tenant and the ports (admin, read-only).
  bool sees_all() const { return role != Role::kTenant; }
};

// What a call needs, from least to most.
enum class Access {
  kInfo,        // GetInfo: every role
  kReadAll,     // ListPorts: admin, read-only
  kReadTenant,  // reads of one tenant: admin, read-only, that tenant
  kTuneTenant,  // flush policy, hints, GRO types, mode: admin, that tenant
  kAdmin,       // create, delete, selectors, quotas: admin
};

// SHA-256 of a secret.
using SecretDigest = std::array<uint8_t, 32>;

class Authorizer {
 public:
  // Authorization off: everyone is an anonymous admin.
  Authorizer() = default;
  // Reads a credentials file, checking its mode; errors name the file and
  // line, never the secret.
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromFile(
      const std::string& path);
  // Parses credentials text (no file mode check); `source` names it in
  // errors.
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromText(
      absl::string_view text, absl::string_view source);

  bool enabled() const { return enabled_; }

  // Re-reads the file given to FromFile. On error nothing changes.
  // Returns the number of credentials now in force.
  absl::StatusOr<size_t> Reload();

  // `authorization` is the header value, if the client sent one.
  // UNAUTHENTICATED if auth is on and it is missing or unknown.
  absl::StatusOr<Principal> Authenticate(
      std::optional<absl::string_view> authorization) const;

  // PERMISSION_DENIED unless `p` may call `method` with `access` on
  // `tenant` (empty for kInfo and kReadAll). The message names the
  // credential, its role and what would be needed.
  static absl::Status Permit(const Principal& p, Access access,
                             absl::string_view method,
                             absl::string_view tenant);

 private:
  struct Entry {
    std::string name;
    Role role;
    SecretDigest digest;
  };
  using Table = std::vector<Entry>;

  static absl::StatusOr<std::shared_ptr<const Table>> Parse(
      absl::string_view text, absl::string_view source);
  static absl::StatusOr<std::shared_ptr<const Table>> ReadFile(
      const std::string& path);
  std::shared_ptr<const Table> table() const;

  bool enabled_ = false;
  std::string path_;  // empty: FromText
  mutable absl::Mutex mu_;
  std::shared_ptr<const Table> table_ ABSL_GUARDED_BY(mu_);
};

// SHA-256 (OpenSSL) of `data`.
SecretDigest Sha256(absl::string_view data);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_AUTH_H_
