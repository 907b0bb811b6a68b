// grod's control plane: the stable entry point grod's main uses.
//
//   ControlPlaneOptions opts;  opts.state_file = ...;
//   auto cp = ControlPlane::Create(std::move(opts), &dataplane);
//   (*cp)->Bootstrap(config);    // before forwarding starts
//   (*cp)->Start();              // binds and serves gRPC
//   ... start ports ...; (*cp)->UpdateHealth();
//   (*cp)->Shutdown();
//
// Serves grod.v1.Grod, grpc.health.v1.Health and server reflection. Health
// has two services: "" (liveness: SERVING while the control plane serves)
// and "grod.v1.Grod" (readiness: SERVING only while the data plane is
// ready, i.e. forwards).
#ifndef GROD_CONTROLPLANE_CONTROL_PLANE_H_
#define GROD_CONTROLPLANE_CONTROL_PLANE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/dataplane.h"
#include "controlplane/controller.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_interceptor.h"
#include "proto/grod/v1/config.pb.h"

namespace grod::controlplane {

class Authorizer;
class GrodService;
class ServerCredentialsSource;

// The health service name whose status is forwarding readiness.
inline constexpr char kReadinessService[] = "grod.v1.Grod";

// Largest request message the server accepts. The API promises
// kMaxHintsPerRequest (100000) hints in one Add/RemoveRouteHints; a hint is
// at most ~50 bytes on the wire (a 43-character IPv6 prefix, its mode and
// framing), so such a request is about 5 MB, over gRPC's 4 MiB default.
// 16 MiB fits it with room, without inviting unbounded allocations.
inline constexpr int kMaxRequestBytes = 16 << 20;

struct ControlPlaneOptions {
  // "host:port" or "unix:/path/to.sock". For a unix socket, missing
  // directories are created (mode 0711), a stale socket file is replaced
  // (a live one is an error), and the socket gets `unix_socket_mode` and
  // `unix_socket_group` (a group name or number; empty = grod's group).
  std::string listen_address = "127.0.0.1:50051";
  uint32_t unix_socket_mode = 0660;
  std::string unix_socket_group;
  v1::SecurityConfig security;
  // Empty = no persistence.
  std::string state_file;
  // Move a corrupt state file aside ("<file>.corrupt-<time>") and start
  // from the config instead of failing Bootstrap.
  bool discard_corrupt_state = false;
  // What to do with a state file this machine cannot apply (controller.h).
  StateRecovery state_recovery = StateRecovery::kFail;
  // Caps on clients (config.proto ApiLimits; 0 fields = defaults).
  v1::ApiLimits limits;
  std::string version, build;
  // Installed on the server in order (e.g. a metrics interceptor).
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
};

class ControlPlane {
 public:
  // Reads TLS material and the credentials file; does not bind yet.
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Create(
      ControlPlaneOptions opts, DataPlane* dp);
  ~ControlPlane();

  // Applies config-file tenants/hints/unmatched_tenant, merged with the
  // persisted state file (which wins), to the data plane.
  absl::Status Bootstrap(const v1::GrodConfig& config);
  // Runs every check Bootstrap makes (Controller::CheckBootstrap) without
  // applying or writing anything: grod --check_config.
  absl::Status CheckBootstrap(const v1::GrodConfig& config) const;
  // Where Bootstrap moved an unusable state file ("" = it did not).
  std::string quarantined_state() const;
  // Binds and serves; error if the address cannot be bound.
  absl::Status Start();
  // Bound port (listen on ":0" in tests); 0 before Start.
  int port() const;
  // Re-reads the credentials file and the TLS files (SIGHUP). Each part
  // that fails keeps what was in force; the error names the file. Returns
  // a one-line summary of what was reloaded.
  absl::StatusOr<std::string> Reload();
  // Re-reads dp->Ready() into the readiness health status.
  void UpdateHealth();
  // Ends streams and stops the server promptly. Idempotent.
  void Shutdown();

  uint64_t config_generation() const;
  absl::Time last_change_time() const;

 private:
  ControlPlane(ControlPlaneOptions opts, DataPlane* dp);

  ControlPlaneOptions opts_;
  DataPlane* const dp_;
  absl::Status PrepareUnixSocket(const std::string& path) const;
  absl::Status SecureUnixSocket(const std::string& path) const;

  std::unique_ptr<ServerCredentialsSource> transport_;
  std::unique_ptr<Authorizer> auth_;
  Limits limits_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<GrodService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> shut_down_{false};
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_CONTROL_PLANE_H_
