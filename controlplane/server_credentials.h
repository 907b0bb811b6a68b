// gRPC server credentials from SecurityConfig: insecure, TLS, or mutual
// TLS (client_ca set: clients must present a certificate it signed).
#ifndef GROD_CONTROLPLANE_SERVER_CREDENTIALS_H_
#define GROD_CONTROLPLANE_SERVER_CREDENTIALS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "proto/grod/v1/config.pb.h"

namespace grod::controlplane {

// Errors name the unreadable file or the missing half of a cert/key pair.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const v1::SecurityConfig& security);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_SERVER_CREDENTIALS_H_
