// grod.v1.Grod over gRPC: authentication, authorization, readiness and
// status mapping around the Controller, plus the read-only calls (info,
// ports, stats) that go straight to the DataPlane.
#ifndef GROD_CONTROLPLANE_SERVICE_H_
#define GROD_CONTROLPLANE_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/dataplane.h"
#include "controlplane/api_limits.h"
#include "controlplane/auth.h"
#include "controlplane/call_limits.h"
#include "controlplane/controller.h"
#include "controlplane/denial_log.h"
#include "grpcpp/grpcpp.h"
#include "proto/grod/v1/grod.grpc.pb.h"

namespace grod::controlplane {

class GrodService final : public v1::Grod::Service {
 public:
  struct Identity {
    std::string version;
    std::string build;
    absl::Time start_time;
  };

  // `tls_listener`: the server's transport is TLS (bearer tokens may then
  // come from anywhere; otherwise only from local peers).
  GrodService(Controller* controller, DataPlane* dp, const Authorizer* auth,
              Identity identity, bool tls_listener,
              const Limits& limits = DefaultLimits());

  // Ends every WatchStats stream promptly (before Server::Shutdown, which
  // would otherwise wait for them).
  void StopStreams();

  grpc::Status GetInfo(grpc::ServerContext* ctx, const v1::GetInfoRequest* req,
                       v1::ServiceInfo* resp) override;
  grpc::Status ListPorts(grpc::ServerContext* ctx,
                         const v1::ListPortsRequest* req,
                         v1::ListPortsResponse* resp) override;
  grpc::Status CreateTenant(grpc::ServerContext* ctx,
                            const v1::CreateTenantRequest* req,
                            v1::Tenant* resp) override;
  grpc::Status GetTenant(grpc::ServerContext* ctx,
                         const v1::GetTenantRequest* req,
                         v1::Tenant* resp) override;
  grpc::Status ListTenants(grpc::ServerContext* ctx,
                           const v1::ListTenantsRequest* req,
                           v1::ListTenantsResponse* resp) override;
  grpc::Status UpdateTenant(grpc::ServerContext* ctx,
                            const v1::UpdateTenantRequest* req,
                            v1::Tenant* resp) override;
  grpc::Status DeleteTenant(grpc::ServerContext* ctx,
                            const v1::DeleteTenantRequest* req,
                            google::protobuf::Empty* resp) override;
  grpc::Status ApplyConfig(grpc::ServerContext* ctx,
                           const v1::ApplyConfigRequest* req,
                           v1::ApplyConfigResponse* resp) override;
  grpc::Status SetFlushPolicy(grpc::ServerContext* ctx,
                              const v1::SetFlushPolicyRequest* req,
                              v1::FlushPolicy* resp) override;
  grpc::Status GetFlushPolicy(grpc::ServerContext* ctx,
                              const v1::GetFlushPolicyRequest* req,
                              v1::FlushPolicy* resp) override;
  grpc::Status AddRouteHints(grpc::ServerContext* ctx,
                             const v1::AddRouteHintsRequest* req,
                             v1::AddRouteHintsResponse* resp) override;
  grpc::Status RemoveRouteHints(grpc::ServerContext* ctx,
                                const v1::RemoveRouteHintsRequest* req,
                                v1::RemoveRouteHintsResponse* resp) override;
  grpc::Status ListRouteHints(grpc::ServerContext* ctx,
                              const v1::ListRouteHintsRequest* req,
                              v1::ListRouteHintsResponse* resp) override;
  grpc::Status GetStats(grpc::ServerContext* ctx,
                        const v1::GetStatsRequest* req,
                        v1::Stats* resp) override;
  grpc::Status WatchStats(grpc::ServerContext* ctx,
                          const v1::WatchStatsRequest* req,
                          grpc::ServerWriter<v1::Stats>* writer) override;

 private:
  // What a unary call needs before it runs.
  struct Call {
    const char* method;  // for logs and denials
    Access access;
    absl::string_view tenant = "";  // the tenant the call names, if any
    // Mutations are rate-limited per principal and need a ready data plane.
    bool mutates = false;
    // A further check on the request for this principal (e.g. which
    // fields a tenant credential may change); a PERMISSION_DENIED from it
    // is logged like the role's.
    std::function<absl::Status(const Principal&)> check;
  };
  // Every unary call: authorize -> throttle -> check -> require ready (for
  // mutations) -> `fn(principal)` -> status with details.
  template <typename Resp, typename Fn>
  grpc::Status Serve(grpc::ServerContext* ctx, const Call& call, Resp* resp,
                     Fn&& fn);
  v1::ServiceInfo Info() const;

  // Authenticates the caller and checks its role allows `access` to
  // `tenant` (see auth.h). Denials are logged (method, principal, peer),
  // rate-limited.
  absl::StatusOr<Principal> Authorize(grpc::ServerContext* ctx,
                                      absl::string_view method, Access access,
                                      absl::string_view tenant = "") const;
  absl::Status RequireReady() const;
  // The per-principal rate limit of mutating calls; a refusal carries the
  // wait in its message and in the "grpc-retry-pushback-ms" trailer.
  absl::Status Throttle(grpc::ServerContext* ctx, const Principal& p);
  // Stats for `tenant` (empty = all `p` may see).
  absl::StatusOr<v1::Stats> BuildStats(const Principal& p,
                                       const std::string& tenant) const;

  Controller* const controller_;
  DataPlane* const dp_;
  const Authorizer* const auth_;
  const Identity identity_;
  const bool tls_listener_;
  mutable DenialLog denials_;

  MutationRateLimiter mutations_;
  StreamSlots watch_slots_;

  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_SERVICE_H_
