#include "grod/health_probe.h"

#include <chrono>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"

namespace grod {

namespace {

// A wildcard listen address is dialled on loopback.
std::string DialTarget(const std::string& listen) {
  for (const char* any : {"0.0.0.0:", "[::]:"}) {
    if (absl::StartsWith(listen, any)) {
      return absl::StrCat(any[0] == '0' ? "127.0.0.1:" : "[::1]:",
                          listen.substr(std::string(any).size()));
    }
  }
  return listen;
}

}  // namespace

absl::Status ProbeHealth(const v1::GrodConfig& config,
                         const std::string& which) {
  std::string service;
  if (which == "ready") {
    service = "grod.v1.Grod";
  } else if (which != "live") {
    return absl::InvalidArgumentError(
        absl::StrCat("--probe: '", which, "' is neither 'live' nor 'ready'"));
  }
  std::shared_ptr<grpc::ChannelCredentials> creds =
      grpc::InsecureChannelCredentials();
  const v1::SecurityConfig& sec = config.security();
  if (!sec.tls_cert_file().empty()) {
    if (!sec.tls_client_ca_file().empty()) {
      return absl::FailedPreconditionError(
          "--probe: grod requires client certificates (mutual TLS); probe "
          "with a gRPC client that has one");
    }
    // The probe dials its own host's loopback, whose name the server's
    // certificate does not carry, and sends nothing secret: TLS without
    // verifying the peer.
    grpc::experimental::TlsChannelCredentialsOptions opts;
    opts.set_verify_server_certs(false);
    opts.set_check_call_host(false);
    opts.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    creds = grpc::experimental::TlsCredentials(opts);
  }
  const std::string target = DialTarget(config.grpc_listen());
  auto stub =
      grpc::health::v1::Health::NewStub(grpc::CreateChannel(target, creds));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("--probe=", which, ": ", target, ": ", s.error_message()));
  }
  if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(
        absl::StrCat("--probe=", which, ": ", target, " answers ",
                     grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                         resp.status())));
  }
  return absl::OkStatus();
}

}  // namespace grod
