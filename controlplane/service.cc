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
#include "controlplane/validate.h"

namespace grod::controlplane {

namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

absl::Time Deadline(const grpc::ServerContext* ctx) {
  const auto d = ctx->deadline();
  if (d >= std::chrono::system_clock::time_point::max() -
               std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(d);
}

// Selectors decide whose traffic a tenant gets and quotas what it may use:
// a tenant credential may change neither, even on its own tenant.
absl::Status CheckTenantMayUpdate(const Principal& p,
                                  const v1::UpdateTenantRequest& req) {
  if (p.role == Role::kAdmin) return absl::OkStatus();
  const auto denied = [&](absl::string_view what) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " may only be changed by an admin credential (",
                     p.name, " is a ", RoleName(p.role),
                     " credential; it may change gro_types, default_mode and "
                     "flush_policy)"));
  };
  if (req.update_mask().paths_size() == 0) {
    return denied(
        "update_mask: empty (every field, including selectors and quotas)");
  }
  for (const std::string& path : req.update_mask().paths()) {
    if (path == "selectors" || path == "quotas" ||
        absl::StartsWith(path, "quotas.")) {
      return denied(absl::StrCat("update_mask: ", path));
    }
  }
  return absl::OkStatus();
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

absl::Status GrodService::RequireReady() const {
  return dp_->ReadyStatus();
}

grpc::Status GrodService::GetInfo(grpc::ServerContext* ctx,
                                  const v1::GetInfoRequest*,
                                  v1::ServiceInfo* resp) {
  if (auto p = Authorize(ctx, "GetInfo", Access::kInfo); !p.ok()) {
    return ToGrpc(p.status());
  }
  const DataPlaneInfo info = dp_->Info();
  resp->set_version(identity_.version);
  resp->set_build(identity_.build);
  resp->set_dpdk_version(info.dpdk_version);
  *resp->mutable_start_time() = ToProtoTime(identity_.start_time);
  const int64_t up_ns =
      absl::ToInt64Nanoseconds(absl::Now() - identity_.start_time);
  resp->mutable_uptime()->set_seconds(up_ns / 1'000'000'000);
  resp->mutable_uptime()->set_nanos(
      static_cast<int32_t>(up_ns % 1'000'000'000));
  resp->set_main_lcore(info.main_lcore);
  for (uint32_t l : info.worker_lcores) resp->add_worker_lcores(l);
  resp->set_config_generation(controller_->generation());
  resp->set_data_plane_ready(dp_->Ready());
  resp->set_tenant_count(static_cast<uint32_t>(controller_->tenant_count()));
  return grpc::Status::OK;
}

grpc::Status GrodService::ListPorts(grpc::ServerContext* ctx,
                                    const v1::ListPortsRequest*,
                                    v1::ListPortsResponse* resp) {
  if (auto p = Authorize(ctx, "ListPorts", Access::kReadAll); !p.ok()) {
    return ToGrpc(p.status());
  }
  for (const PortInfo& port : dp_->Ports()) *resp->add_ports() = ToProto(port);
  return grpc::Status::OK;
}

grpc::Status GrodService::CreateTenant(grpc::ServerContext* ctx,
                                       const v1::CreateTenantRequest* req,
                                       v1::Tenant* resp) {
  auto p = Authorize(ctx, "CreateTenant", Access::kAdmin);
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = Throttle(ctx, *p); !s.ok()) return ToGrpc(s);
  if (req->tenant().name() == kReservedTenantName) {
    // Credentials files name tenants; "admin" there means the admin.
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "tenant.name: \"admin\" is reserved for the admin "
                        "credential; choose another name");
  }
  if (absl::Status s = RequireReady(); !s.ok()) return ToGrpc(s);
  auto t = controller_->CreateTenant(req->tenant(), Deadline(ctx));
  if (!t.ok()) return ToGrpc(t.status());
  *resp = *std::move(t);
  return grpc::Status::OK;
}

grpc::Status GrodService::GetTenant(grpc::ServerContext* ctx,
                                    const v1::GetTenantRequest* req,
                                    v1::Tenant* resp) {
  if (auto p = Authorize(ctx, "GetTenant", Access::kReadTenant, req->name());
      !p.ok()) {
    return ToGrpc(p.status());
  }
  auto t = controller_->GetTenant(req->name());
  if (!t.ok()) return ToGrpc(t.status());
  *resp = *std::move(t);
  return grpc::Status::OK;
}

grpc::Status GrodService::ListTenants(grpc::ServerContext* ctx,
                                      const v1::ListTenantsRequest* req,
                                      v1::ListTenantsResponse* resp) {
  auto p = Authorize(ctx, "ListTenants", Access::kInfo);
  if (!p.ok()) return ToGrpc(p.status());
  std::optional<std::string> only;
  if (!p->sees_all()) only = p->name;
  auto r = controller_->ListTenants(*req, only);
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrodService::UpdateTenant(grpc::ServerContext* ctx,
                                       const v1::UpdateTenantRequest* req,
                                       v1::Tenant* resp) {
  auto p =
      Authorize(ctx, "UpdateTenant", Access::kTuneTenant, req->tenant().name());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = Throttle(ctx, *p); !s.ok()) return ToGrpc(s);
  if (absl::Status s = CheckTenantMayUpdate(*p, *req); !s.ok()) {
    denials_.Log(absl::StrCat(
        "denied /grod.v1.Grod/UpdateTenant principal=", p->name,
        " role=", RoleName(p->role), " peer=", ctx->peer(), ": ", s.message()));
    return ToGrpc(s);
  }
  if (absl::Status s = RequireReady(); !s.ok()) return ToGrpc(s);
  auto t = controller_->UpdateTenant(*req, Deadline(ctx));
  if (!t.ok()) return ToGrpc(t.status());
  *resp = *std::move(t);
  return grpc::Status::OK;
}

grpc::Status GrodService::DeleteTenant(grpc::ServerContext* ctx,
                                       const v1::DeleteTenantRequest* req,
                                       google::protobuf::Empty*) {
  auto p = Authorize(ctx, "DeleteTenant", Access::kAdmin, req->name());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = Throttle(ctx, *p); !s.ok()) return ToGrpc(s);
  if (absl::Status s = RequireReady(); !s.ok()) return ToGrpc(s);
  return ToGrpc(controller_->DeleteTenant(req->name(), Deadline(ctx)));
}

grpc::Status GrodService::SetFlushPolicy(grpc::ServerContext* ctx,
                                         const v1::SetFlushPolicyRequest* req,
                                         v1::FlushPolicy* resp) {
  auto p = Authorize(ctx, "SetFlushPolicy", Access::kTuneTenant, req->tenant());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = Throttle(ctx, *p); !s.ok()) return ToGrpc(s);
  if (absl::Status s = RequireReady(); !s.ok()) return ToGrpc(s);
  auto r = controller_->SetFlushPolicy(*req, Deadline(ctx));
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrodService::GetFlushPolicy(grpc::ServerContext* ctx,
                                         const v1::GetFlushPolicyRequest* req,
                                         v1::FlushPolicy* resp) {
  if (auto p =
          Authorize(ctx, "GetFlushPolicy", Access::kReadTenant, req->tenant());
      !p.ok()) {
    return ToGrpc(p.status());
  }
  auto r = controller_->GetFlushPolicy(req->tenant());
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrodService::AddRouteHints(grpc::ServerContext* ctx,
                                        const v1::AddRouteHintsRequest* req,
                                        v1::AddRouteHintsResponse* resp) {
  auto p = Authorize(ctx, "AddRouteHints", Access::kTuneTenant, req->tenant());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = Throttle(ctx, *p); !s.ok()) return ToGrpc(s);
  if (absl::Status s = RequireReady(); !s.ok()) return ToGrpc(s);
  auto r = controller_->AddRouteHints(*req, Deadline(ctx));
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrodService::RemoveRouteHints(
    grpc::ServerContext* ctx, const v1::RemoveRouteHintsRequest* req,
    v1::RemoveRouteHintsResponse* resp) {
  auto p =
      Authorize(ctx, "RemoveRouteHints", Access::kTuneTenant, req->tenant());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = Throttle(ctx, *p); !s.ok()) return ToGrpc(s);
  if (absl::Status s = RequireReady(); !s.ok()) return ToGrpc(s);
  auto r = controller_->RemoveRouteHints(*req, Deadline(ctx));
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status GrodService::ListRouteHints(grpc::ServerContext* ctx,
                                         const v1::ListRouteHintsRequest* req,
                                         v1::ListRouteHintsResponse* resp) {
  if (auto p =
          Authorize(ctx, "ListRouteHints", Access::kReadTenant, req->tenant());
      !p.ok()) {
    return ToGrpc(p.status());
  }
  auto r = controller_->ListRouteHints(*req);
  if (!r.ok()) return ToGrpc(r.status());
  *resp = *std::move(r);
  return grpc::Status::OK;
}

absl::StatusOr<v1::Stats> GrodService::BuildStats(
    const Principal& p, const std::string& tenant) const {
  if (!tenant.empty()) {
    if (absl::Status s = ValidateTenantName(tenant, "tenant"); !s.ok()) {
      return s;
    }
    if (!controller_->HasTenant(tenant)) {
      return absl::NotFoundError(absl::StrCat("tenant ", tenant, " not found"));
    }
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
  auto p =
      Authorize(ctx, "GetStats",
                req->tenant().empty() ? Access::kInfo : Access::kReadTenant,
                req->tenant());
  if (!p.ok()) return ToGrpc(p.status());
  auto s = BuildStats(*p, req->tenant());
  if (!s.ok()) return ToGrpc(s.status());
  *resp = *std::move(s);
  return grpc::Status::OK;
}

grpc::Status GrodService::WatchStats(grpc::ServerContext* ctx,
                                     const v1::WatchStatsRequest* req,
                                     grpc::ServerWriter<v1::Stats>* writer) {
  auto p =
      Authorize(ctx, "WatchStats",
                req->tenant().empty() ? Access::kInfo : Access::kReadTenant,
                req->tenant());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = watch_slots_.Acquire(p->name); !s.ok()) {
    return ToGrpc(s);
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
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "interval: must be between 100ms and 1h");
    }
  }
  const absl::Time deadline = Deadline(ctx);
  absl::Time next = absl::Now();
  while (true) {
    auto stats = BuildStats(*p, req->tenant());
    // The first message's errors (bad tenant, not ready) are the call's;
    // later the tenant may be deleted while watched, which ends the stream.
    if (!stats.ok()) return ToGrpc(stats.status());
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
