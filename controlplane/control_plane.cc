#include "controlplane/control_plane.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controlplane/auth.h"
#include "controlplane/controller.h"
#include "controlplane/limits.h"
#include "controlplane/server_credentials.h"
#include "controlplane/service.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"

namespace grod::controlplane {

static_assert(kMaxRequestBytes >= kMaxHintsPerRequest * 64,
              "a full AddRouteHints request must fit");

namespace {

bool IsLoopback(const std::string& addr) {
  return absl::StartsWith(addr, "127.") || absl::StartsWith(addr, "[::1]") ||
         absl::StartsWith(addr, "localhost:") ||
         absl::StartsWith(addr, "unix:");
}

}  // namespace

ControlPlane::ControlPlane(ControlPlaneOptions opts, DataPlane* dp)
    : opts_(std::move(opts)), dp_(dp) {}

ControlPlane::~ControlPlane() { Shutdown(); }

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Create(
    ControlPlaneOptions opts, DataPlane* dp) {
  if (dp == nullptr) return absl::InvalidArgumentError("no data plane");
  std::unique_ptr<ControlPlane> cp(new ControlPlane(std::move(opts), dp));
  absl::StatusOr<Limits> limits = ResolveLimits(cp->opts_.limits);
  if (!limits.ok()) return limits.status();
  cp->limits_ = *limits;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
      MakeServerCredentials(cp->opts_.security);
  if (!creds.ok()) return creds.status();
  cp->credentials_ = *std::move(creds);
  if (cp->opts_.security.credentials_file().empty()) {
    cp->auth_ = std::make_unique<Authorizer>();
  } else {
    absl::StatusOr<std::unique_ptr<Authorizer>> auth =
        Authorizer::FromFile(cp->opts_.security.credentials_file());
    if (!auth.ok()) return auth.status();
    cp->auth_ = *std::move(auth);
  }
  if (!IsLoopback(cp->opts_.listen_address) && !cp->auth_->enabled()) {
    std::fprintf(stderr,
                 "grod: warning: gRPC listens on %s without authorization; "
                 "anyone who can reach it may reconfigure grod "
                 "(set security.credentials_file)\n",
                 cp->opts_.listen_address.c_str());
  }
  cp->controller_ = std::make_unique<Controller>(
      dp, cp->opts_.state_file, cp->opts_.discard_corrupt_state, cp->limits_,
      cp->opts_.state_recovery);
  cp->service_ = std::make_unique<GrodService>(
      cp->controller_.get(), dp, cp->auth_.get(),
      GrodService::Identity{cp->opts_.version, cp->opts_.build, absl::Now()},
      /*tls_listener=*/!cp->opts_.security.tls_cert_file().empty(),
      cp->limits_);
  return cp;
}

absl::Status ControlPlane::Bootstrap(const v1::GrodConfig& config) {
  return controller_->Bootstrap(config);
}

absl::Status ControlPlane::CheckBootstrap(const v1::GrodConfig& config) const {
  return controller_->CheckBootstrap(config);
}

std::string ControlPlane::quarantined_state() const {
  return controller_->quarantined_state();
}

absl::Status ControlPlane::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("started");
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which would let a second grod bind
  // the same port and silently share its clients.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  // Bounded threads: a flood of calls (or of WatchStats streams, capped
  // below this by limits.max_watch_streams) gets RESOURCE_EXHAUSTED from
  // gRPC instead of growing grod's thread count without end.
  grpc::ResourceQuota quota("grod-grpc");
  quota.SetMaxThreads(static_cast<int>(limits_.max_rpc_threads));
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS,
                              1);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
      static_cast<int>(std::min<uint32_t>(4, limits_.max_rpc_threads / 2)));
  builder.AddListeningPort(opts_.listen_address, credentials_, &port_);
  builder.RegisterService(service_.get());
  if (!opts_.interceptors.empty()) {
    builder.experimental().SetInterceptorCreators(
        std::move(opts_.interceptors));
    opts_.interceptors.clear();
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts_.listen_address,
                     " (address in use or not local?)"));
  }
  UpdateHealth();
  return absl::OkStatus();
}

int ControlPlane::port() const { return port_; }

void ControlPlane::UpdateHealth() {
  if (server_ == nullptr || shut_down_) return;
  const bool ready = dp_->Ready();
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(ready);  // "" = the whole server
  health->SetServingStatus("grod.v1.Grod", ready);
}

void ControlPlane::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (service_ != nullptr) service_->StopStreams();
  if (server_ != nullptr) {
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
    // Streams end on StopStreams; unary calls get a moment to finish.
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(2));
    server_->Wait();
  }
}

uint64_t ControlPlane::config_generation() const {
  return controller_->generation();
}

absl::Time ControlPlane::last_change_time() const {
  return controller_->last_change_time();
}

}  // namespace grod::controlplane
