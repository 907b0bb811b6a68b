#include "controlplane/server_credentials.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"

namespace grod::controlplane {

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view field) {
  std::ifstream in(path);
  std::stringstream buf;
  if (in) buf << in.rdbuf();
  if (!in || buf.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.", field, ": cannot read ", path));
  }
  return buf.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const v1::SecurityConfig& security) {
  const bool has_cert = !security.tls_cert_file().empty();
  const bool has_key = !security.tls_key_file().empty();
  if (!has_cert && !has_key) {
    if (!security.tls_client_ca_file().empty()) {
      return absl::InvalidArgumentError(
          "security.tls_client_ca_file: needs tls_cert_file and tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "security: tls_cert_file and tls_key_file must be set together");
  }
  absl::StatusOr<std::string> cert =
      ReadPem(security.tls_cert_file(), "tls_cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadPem(security.tls_key_file(), "tls_key_file");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions opts;
  opts.pem_key_cert_pairs.push_back({*key, *cert});
  if (!security.tls_client_ca_file().empty()) {
    absl::StatusOr<std::string> ca =
        ReadPem(security.tls_client_ca_file(), "tls_client_ca_file");
    if (!ca.ok()) return ca.status();
    opts.pem_root_certs = *ca;
    opts.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(opts);
}

}  // namespace grod::controlplane
