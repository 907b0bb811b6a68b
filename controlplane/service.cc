#include "controlplane/service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controlplane/convert.h"
#include "controlplane/limits.h"
#include "controlplane/peer_address.h"
#include "controlplane/status_details.h"
#include "controlplane/update_mask.h"
#include "controlplane/validate.h"

namespace grod::controlplane {

namespace {

absl::Time Deadline(const grpc::ServerContext* ctx) {
  const auto d = ctx->deadline();
  if (d >= std::chrono::system_clock::time_point::max() -
               std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(d);
}

// Selectors decide whose traffic a tenant gets and quotas what it may use:
// a tenant credential may change neither, even on its own tenant. The mask
// checked is the one UpdateTenant will apply (AIP-134: no mask = every
// populated field, "*" = all).
absl::Status CheckTenantMayUpdate(const Principal& p,
                                  const v1::UpdateTenantRequest& req) {
  if (p.role == Role::kAdmin) return absl::OkStatus();
  absl::StatusOr<google::protobuf::FieldMask> mask =
      ResolveUpdateMask(req.tenant(), req.update_mask());
  if (!mask.ok()) return mask.status();
  const std::string given = req.update_mask().paths_size() == 0
                                ? "update_mask (none: every "
                                  "populated field)"
                                : "update_mask";
  for (const std::string& path : mask->paths()) {
    if (path == "selectors" || path == "quotas" ||
        absl::StartsWith(path, "quotas.")) {
      return absl::PermissionDeniedError(absl::StrCat(
          given, ": ", path, " may only be changed by an admin credential (",
          p.name, " is a ", RoleName(p.role),
          " credential; it may change gro_types, default_mode and "
          "flush_policy)"));
    }
  }
  return absl::OkStatus();
}

// Credentials files name tenants; "admin" there means the admin.
absl::Status CheckNotReserved(const std::string& name,
                              const std::string& field) {
  if (name != kReservedTenantName) return absl::OkStatus();
  return FieldViolation(field,
                        "\"admin\" is reserved for the admin credential; "
                        "choose another name");
}

// Stats of one tenant are that tenant's; all stats are filtered by role.
Access StatsAccess(const std::string& tenant) {
  return tenant.empty() ? Access::kInfo : Access::kReadTenant;
}

}  // namespace

GrodService::GrodService(Controller* controller, DataPlane* dp,
                         const Authorizer* auth, Identity identity,
                         bool tls_listener, const Limits& limits)
    : controller_(controller),
      dp_(dp),
      auth_(auth),
      identity_(identity),
      tls_listener_(tls_listener),
      mutations_(limits.mutations_per_second, limits.mutation_burst),
      watch_slots_(limits.max_watch_streams,
                   limits.max_watch_streams_per_principal) {}

absl::Status GrodService::Throttle(grpc::ServerContext* ctx,
                                   const Principal& p) {
  absl::Duration wait;
  absl::Status s = mutations_.Take(p.name, absl::Now(), &wait);
  if (!s.ok()) {
    ctx->AddTrailingMetadata("grpc-retry-pushback-ms",
                             absl::StrCat(absl::ToInt64Milliseconds(wait)));
  }
  return s;
}

void GrodService::StopStreams() {
  absl::MutexLock l(&stop_mu_);
  stopping_ = true;
}

absl::StatusOr<Principal> GrodService::Authorize(
    grpc::ServerContext* ctx, absl::string_view method, Access access,
    absl::string_view tenant) const {
  std::optional<absl::string_view> header;
  const auto& md = ctx->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) {
    header = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<Principal> p;
  if (auth_->enabled() && header.has_value() && !tls_listener_ &&
      !IsLocalPeer(ctx->peer())) {
    // The token has crossed the network in the clear; refusing it makes the
    // mistake visible instead of letting it work.
    p = absl::UnauthenticatedError(
        "bearer token refused: it was sent without TLS from a non-local "
        "peer, where anyone on the path can read it; use TLS "
        "(security.tls_cert_file) or a local unix: socket or loopback "
        "address, and replace the exposed secret");
  } else {
    p = auth_->Authenticate(header);
  }
  absl::Status s = p.status();
  if (p.ok()) s = Authorizer::Permit(*p, access, method, tenant);
  if (!s.ok()) {
    // One line per denial for the operator, rate-limited; never a secret.
    denials_.Log(
        absl::StrCat("denied /grod.v1.Grod/", method,
                     " principal=", p.ok() ? p->name : "<none>",
                     p.ok() ? absl::StrCat(" role=", RoleName(p->role)) : "",
                     " peer=", ctx->peer(), ": ", s.message()));
    return s;
  }
  return p;
}

absl::Status GrodService::RequireReady() const { return dp_->ReadyStatus(); }

template <typename Resp, typename Fn>
grpc::Status GrodService::Serve(grpc::ServerContext* ctx, const Call& call,
                                Resp* resp, Fn&& fn) {
  absl::StatusOr<Principal> p =
      Authorize(ctx, call.method, call.access, call.tenant);
  if (!p.ok()) return ToGrpcStatus(p.status());
  absl::Status s = call.mutates ? Throttle(ctx, *p) : absl::OkStatus();
  if (s.ok() && call.check) s = call.check(*p);
  if (s.code() == absl::StatusCode::kPermissionDenied) {
    denials_.Log(absl::StrCat(
        "denied /grod.v1.Grod/", call.method, " principal=", p->name,
        " role=", RoleName(p->role), " peer=", ctx->peer(), ": ", s.message()));
  }
  if (s.ok() && call.mutates) s = RequireReady();
  if (!s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Resp> r = fn(*p);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrodService::GetInfo(grpc::ServerContext* ctx,
                                  const v1::GetInfoRequest*,
                                  v1::ServiceInfo* resp) {
  return Serve(ctx, {"GetInfo", Access::kInfo}, resp,
               [&](const Principal&) -> absl::StatusOr<v1::ServiceInfo> {
                 return Info();
               });
}

v1::ServiceInfo GrodService::Info() const {
  const DataPlaneInfo info = dp_->Info();
  v1::ServiceInfo out;
  out.set_version(identity_.version);
  out.set_build(identity_.build);
  out.set_dpdk_version(info.dpdk_version);
  *out.mutable_start_time() = ToProtoTime(identity_.start_time);
  const int64_t up_ns =
      absl::ToInt64Nanoseconds(absl::Now() - identity_.start_time);
  out.mutable_uptime()->set_seconds(up_ns / 1'000'000'000);
  out.mutable_uptime()->set_nanos(static_cast<int32_t>(up_ns % 1'000'000'000));
  out.set_main_lcore(info.main_lcore);
  for (uint32_t l : info.worker_lcores) out.add_worker_lcores(l);
  out.set_config_generation(controller_->generation());
  out.set_data_plane_ready(dp_->Ready());
  out.set_tenant_count(static_cast<uint32_t>(controller_->tenant_count()));
  return out;
}

grpc::Status GrodService::ListPorts(grpc::ServerContext* ctx,
                                    const v1::ListPortsRequest*,
                                    v1::ListPortsResponse* resp) {
  return Serve(ctx, {"ListPorts", Access::kReadAll}, resp,
               [&](const Principal&) -> absl::StatusOr<v1::ListPortsResponse> {
                 v1::ListPortsResponse out;
                 for (const PortInfo& port : dp_->Ports()) {
                   *out.add_ports() = ToProto(port);
                 }
                 return out;
               });
}

grpc::Status GrodService::CreateTenant(grpc::ServerContext* ctx,
                                       const v1::CreateTenantRequest* req,
                                       v1::Tenant* resp) {
  Call call{"CreateTenant", Access::kAdmin, "", true};
  call.check = [&](const Principal&) {
    return CheckNotReserved(req->tenant().name(), "tenant.name");
  };
  return Serve(ctx, call, resp, [&](const Principal&) {
    return controller_->CreateTenant(req->tenant(), Deadline(ctx));
  });
}

grpc::Status GrodService::GetTenant(grpc::ServerContext* ctx,
                                    const v1::GetTenantRequest* req,
                                    v1::Tenant* resp) {
  return Serve(
      ctx, {"GetTenant", Access::kReadTenant, req->name()}, resp,
      [&](const Principal&) { return controller_->GetTenant(req->name()); });
}

grpc::Status GrodService::ListTenants(grpc::ServerContext* ctx,
                                      const v1::ListTenantsRequest* req,
                                      v1::ListTenantsResponse* resp) {
  return Serve(ctx, {"ListTenants", Access::kInfo}, resp,
               [&](const Principal& p) {
                 std::optional<std::string> only;
                 if (!p.sees_all()) only = p.name;
                 return controller_->ListTenants(*req, only);
               });
}

grpc::Status GrodService::UpdateTenant(grpc::ServerContext* ctx,
                                       const v1::UpdateTenantRequest* req,
                                       v1::Tenant* resp) {
  Call call{"UpdateTenant", Access::kTuneTenant, req->tenant().name(), true};
  call.check = [&](const Principal& p) {
    return CheckTenantMayUpdate(p, *req);
  };
  return Serve(ctx, call, resp, [&](const Principal&) {
    return controller_->UpdateTenant(*req, Deadline(ctx));
  });
}

grpc::Status GrodService::DeleteTenant(grpc::ServerContext* ctx,
                                       const v1::DeleteTenantRequest* req,
                                       google::protobuf::Empty* resp) {
  return Serve(
      ctx, {"DeleteTenant", Access::kAdmin, req->name(), true}, resp,
      [&](const Principal&) -> absl::StatusOr<google::protobuf::Empty> {
        absl::Status s =
            controller_->DeleteTenant(req->name(), Deadline(ctx), req->etag());
        if (!s.ok()) return s;
        return google::protobuf::Empty();
      });
}

grpc::Status GrodService::ApplyConfig(grpc::ServerContext* ctx,
                                      const v1::ApplyConfigRequest* req,
                                      v1::ApplyConfigResponse* resp) {
  // A dry run only reads (what a read-only CI job may check); applying
  // replaces every tenant, so only an admin may.
  Call call{"ApplyConfig", req->dry_run() ? Access::kReadAll : Access::kAdmin,
            "", !req->dry_run()};
  call.check = [&](const Principal&) {
    for (int i = 0; i < req->tenants_size(); ++i) {
      if (absl::Status s = CheckNotReserved(
              req->tenants(i).name(), absl::StrCat("tenants[", i, "].name"));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  };
  return Serve(ctx, call, resp, [&](const Principal&) {
    return controller_->ApplyConfig(*req, Deadline(ctx));
  });
}

grpc::Status GrodService::SetFlushPolicy(grpc::ServerContext* ctx,
                                         const v1::SetFlushPolicyRequest* req,
                                         v1::FlushPolicy* resp) {
  return Serve(ctx,
               {"SetFlushPolicy", Access::kTuneTenant, req->tenant(), true},
               resp, [&](const Principal&) {
                 return controller_->SetFlushPolicy(*req, Deadline(ctx));
               });
}

grpc::Status GrodService::GetFlushPolicy(grpc::ServerContext* ctx,
                                         const v1::GetFlushPolicyRequest* req,
                                         v1::FlushPolicy* resp) {
  return Serve(ctx, {"GetFlushPolicy", Access::kReadTenant, req->tenant()},
               resp, [&](const Principal&) {
                 return controller_->GetFlushPolicy(req->tenant());
               });
}

grpc::Status GrodService::AddRouteHints(grpc::ServerContext* ctx,
                                        const v1::AddRouteHintsRequest* req,
                                        v1::AddRouteHintsResponse* resp) {
  return Serve(ctx, {"AddRouteHints", Access::kTuneTenant, req->tenant(), true},
               resp, [&](const Principal&) {
                 return controller_->AddRouteHints(*req, Deadline(ctx));
               });
}

grpc::Status GrodService::RemoveRouteHints(
    grpc::ServerContext* ctx, const v1::RemoveRouteHintsRequest* req,
    v1::RemoveRouteHintsResponse* resp) {
  return Serve(ctx,
               {"RemoveRouteHints", Access::kTuneTenant, req->tenant(), true},
               resp, [&](const Principal&) {
                 return controller_->RemoveRouteHints(*req, Deadline(ctx));
               });
}

grpc::Status GrodService::ListRouteHints(grpc::ServerContext* ctx,
                                         const v1::ListRouteHintsRequest* req,
                                         v1::ListRouteHintsResponse* resp) {
  return Serve(
      ctx, {"ListRouteHints", Access::kReadTenant, req->tenant()}, resp,
      [&](const Principal&) { return controller_->ListRouteHints(*req); });
}

absl::StatusOr<v1::Stats> GrodService::BuildStats(
    const Principal& p, const std::string& tenant) const {
  if (!tenant.empty()) {
    if (absl::Status s = ValidateTenantName(tenant, "tenant"); !s.ok()) {
      return s;
    }
    if (!controller_->HasTenant(tenant)) return TenantNotFound(tenant);
  }
  if (absl::Status s = RequireReady(); !s.ok()) return s;
  const StatsSnapshot snap = dp_->Stats();
  v1::Stats out;
  *out.mutable_time() = ToProtoTime(absl::Now());
  out.set_config_generation(controller_->generation());
  // A tenant credential sees only its own tenant and no port counters
  // (ports carry every tenant's traffic); admin and read-only see all.
  const std::string only = !tenant.empty() ? tenant
                           : p.sees_all()  ? ""
                                           : p.name;
  bool found = false;
  for (const TenantCounters& c : snap.tenants) {
    if (!only.empty() && c.tenant != only) continue;
    found = true;
    *out.add_tenants() = ToProto(c);
  }
  // A tenant created a moment ago may not be in the data plane's snapshot.
  if (!only.empty() && !found && controller_->HasTenant(only)) {
    out.add_tenants()->set_tenant(only);
  }
  if (p.sees_all()) {
    for (const PortCounters& c : snap.ports) *out.add_ports() = ToProto(c);
  }
  return out;
}

grpc::Status GrodService::GetStats(grpc::ServerContext* ctx,
                                   const v1::GetStatsRequest* req,
                                   v1::Stats* resp) {
  return Serve(
      ctx, {"GetStats", StatsAccess(req->tenant()), req->tenant()}, resp,
      [&](const Principal& p) { return BuildStats(p, req->tenant()); });
}

grpc::Status GrodService::WatchStats(grpc::ServerContext* ctx,
                                     const v1::WatchStatsRequest* req,
                                     grpc::ServerWriter<v1::Stats>* writer) {
  auto p =
      Authorize(ctx, "WatchStats", StatsAccess(req->tenant()), req->tenant());
  if (!p.ok()) return ToGrpcStatus(p.status());
  if (absl::Status s = watch_slots_.Acquire(p->name); !s.ok()) {
    return ToGrpcStatus(s);
  }
  struct Release {
    StreamSlots* slots;
    const std::string& name;
    ~Release() { slots->Release(name); }
  } release{&watch_slots_, p->name};
  absl::Duration interval = absl::Seconds(1);
  if (req->has_interval()) {
    interval = absl::Seconds(req->interval().seconds()) +
               absl::Nanoseconds(req->interval().nanos());
    if (interval < absl::Milliseconds(kMinWatchIntervalMs) ||
        interval > absl::Milliseconds(kMaxWatchIntervalMs)) {
      return ToGrpcStatus(
          FieldViolation("interval", "must be between 100ms and 1h"));
    }
  }
  const absl::Time deadline = Deadline(ctx);
  absl::Time next = absl::Now();
  while (true) {
    auto stats = BuildStats(*p, req->tenant());
    // The first message's errors (bad tenant, not ready) are the call's;
    // later the tenant may be deleted while watched, which ends the stream.
    if (!stats.ok()) return ToGrpcStatus(stats.status());
    if (!writer->Write(*stats)) return grpc::Status::OK;  // client gone
    next += interval;
    // Wake at least every 50ms: cancellation is polled, not signalled.
    while (true) {
      const absl::Time now = absl::Now();
      if (now >= next) break;
      if (ctx->IsCancelled() || now >= deadline) return grpc::Status::OK;
      absl::MutexLock l(&stop_mu_);
      const absl::Time wake =
          std::min({next, deadline, now + absl::Milliseconds(50)});
      if (stop_mu_.AwaitWithDeadline(absl::Condition(&stopping_), wake)) {
        return grpc::Status::OK;
      }
    }
    if (ctx->IsCancelled()) return grpc::Status::OK;
    if (absl::Now() - next > interval) next = absl::Now();  // fell behind
  }
}

}  // namespace grod::controlplane
