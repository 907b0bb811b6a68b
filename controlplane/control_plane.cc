#include "controlplane/control_plane.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "controlplane/auth.h"
#include "controlplane/controller.h"
#include "controlplane/limits.h"
#include "controlplane/peer_address.h"
#include "controlplane/server_credentials.h"
#include "controlplane/service.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"

namespace grod::controlplane {

static_assert(kMaxRequestBytes >= kMaxHintsPerRequest * 64,
              "a full AddRouteHints request must fit");

namespace {

// "unix:/run/grod/grod.sock" or "unix:///run/grod/grod.sock" -> the path;
// "" for other addresses.
std::string UnixPath(const std::string& address) {
  absl::string_view rest = address;
  if (!absl::ConsumePrefix(&rest, "unix:")) return "";
  if (absl::StartsWith(rest, "//")) rest.remove_prefix(2);
  return std::string(rest);
}

// True if something accepts connections on the unix socket at `path`.
bool SocketAnswers(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  const bool answers =
      connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  close(fd);
  return answers;
}

absl::StatusOr<gid_t> GroupId(const std::string& group) {
  gid_t gid = 0;
  if (absl::SimpleAtoi(group, &gid)) return gid;
  const struct group* g = getgrnam(group.c_str());
  if (g == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unix socket group '", group, "' does not exist (name or number)"));
  }
  return g->gr_gid;
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
  absl::StatusOr<std::unique_ptr<ServerCredentialsSource>> transport =
      ServerCredentialsSource::Create(cp->opts_.security);
  if (!transport.ok()) return transport.status();
  cp->transport_ = *std::move(transport);
  if (!cp->opts_.unix_socket_group.empty()) {
    if (absl::Status s = GroupId(cp->opts_.unix_socket_group).status();
        !s.ok()) {
      return s;
    }
  }
  if (cp->opts_.security.credentials_file().empty()) {
    cp->auth_ = std::make_unique<Authorizer>();
  } else {
    absl::StatusOr<std::unique_ptr<Authorizer>> auth =
        Authorizer::FromFile(cp->opts_.security.credentials_file());
    if (!auth.ok()) return auth.status();
    cp->auth_ = *std::move(auth);
  }
  if (!IsLocalAddress(cp->opts_.listen_address) && !cp->auth_->enabled()) {
    GROD_LOG(WARNING, "warning: gRPC listens on ", cp->opts_.listen_address,
             " without authorization; anyone who can reach it may "
             "reconfigure grod (set security.credentials_file)");
  }
  cp->controller_ = std::make_unique<Controller>(
      dp, cp->opts_.state_file, cp->opts_.discard_corrupt_state, cp->limits_,
      cp->opts_.state_recovery);
  cp->service_ = std::make_unique<GrodService>(
      cp->controller_.get(), dp, cp->auth_.get(),
      GrodService::Identity{cp->opts_.version, cp->opts_.build, absl::Now()},
      /*tls_listener=*/cp->transport_->tls(), cp->limits_);
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
  const std::string unix_path = UnixPath(opts_.listen_address);
  if (!unix_path.empty()) {
    if (absl::Status s = PrepareUnixSocket(unix_path); !s.ok()) return s;
  }
  builder.AddListeningPort(opts_.listen_address, transport_->credentials(),
                           &port_);
  builder.RegisterService(service_.get());
  if (!opts_.interceptors.empty()) {
    builder.experimental().SetInterceptorCreators(
        std::move(opts_.interceptors));
    opts_.interceptors.clear();
  }
  // The socket file is created by bind(): no one but grod may open it
  // before its mode and group are set below.
  const mode_t old_umask = unix_path.empty() ? 0 : umask(0177);
  server_ = builder.BuildAndStart();
  if (!unix_path.empty()) umask(old_umask);
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts_.listen_address,
                     " (address in use or not local?)"));
  }
  if (!unix_path.empty()) {
    if (absl::Status s = SecureUnixSocket(unix_path); !s.ok()) {
      server_->Shutdown();
      server_.reset();
      return s;
    }
  }
  UpdateHealth();
  return absl::OkStatus();
}

absl::Status ControlPlane::PrepareUnixSocket(const std::string& path) const {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return absl::UnavailableError(
            absl::StrCat("cannot create directory ", dir.string(), " for ",
                         opts_.listen_address, ": ", ec.message()));
      }
      // Others may pass through to the socket (its own mode decides) but
      // not list the directory.
      chmod(dir.c_str(), 0711);
    }
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; not replacing it"));
  }
  if (SocketAnswers(path)) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts_.listen_address,
                     ": another process serves on it (a second grod?)"));
  }
  // A socket left by a grod that died: gRPC would replace it anyway.
  unlink(path.c_str());
  return absl::OkStatus();
}

absl::Status ControlPlane::SecureUnixSocket(const std::string& path) const {
  if (!opts_.unix_socket_group.empty()) {
    absl::StatusOr<gid_t> gid = GroupId(opts_.unix_socket_group);
    if (!gid.ok()) return gid.status();
    if (chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot give ", path, " to group ",
                       opts_.unix_socket_group, ": ", std::strerror(errno)));
    }
  }
  if (chmod(path.c_str(), opts_.unix_socket_mode & 0777) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "cannot chmod %04o %s: %s", opts_.unix_socket_mode & 0777, path,
        std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ControlPlane::Reload() {
  std::vector<std::string> done, errors;
  if (auth_->enabled()) {
    absl::StatusOr<size_t> n = auth_->Reload();
    if (n.ok()) {
      done.push_back(absl::StrCat(*n, " credentials from ",
                                  opts_.security.credentials_file()));
    } else {
      errors.push_back(std::string(n.status().message()));
    }
  }
  if (transport_->tls()) {
    if (absl::Status s = transport_->Reload(); s.ok()) {
      done.push_back("TLS certificate and key");
    } else {
      errors.push_back(std::string(s.message()));
    }
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reload failed, the previous ones stay in force: ",
        absl::StrJoin(errors, "; "),
        done.empty()
            ? ""
            : absl::StrCat(" (reloaded: ", absl::StrJoin(done, ", "), ")")));
  }
  if (done.empty()) return std::string("nothing to reload");
  return absl::StrCat("reloaded ", absl::StrJoin(done, ", "));
}

int ControlPlane::port() const { return port_; }

void ControlPlane::UpdateHealth() {
  if (server_ == nullptr || shut_down_) return;
  const bool ready = dp_->Ready();
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  // "" is liveness: the process serves its control plane (NOT_SERVING
  // only once it shuts down), so a probe on it restarts a hung grod but not
  // one whose data plane is still starting or briefly not ready.
  // "grod.v1.Grod" is readiness: the data plane forwards.
  health->SetServingStatus("", true);
  health->SetServingStatus(kReadinessService, ready);
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
