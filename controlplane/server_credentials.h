// gRPC server credentials from SecurityConfig: insecure, TLS, or mutual
// TLS (client_ca set: clients must present a certificate it signed), with
// the PEM files re-read on Reload() (SIGHUP) while the server runs.
//
// How the reload works: gRPC 1.51 has no public hook to hand a running
// server new certificates, but its FileWatcherCertificateProvider re-reads
// files every second. grod gives it paths of in-memory files
// (memfd, /proc/self/fd/N) holding the PEM data it last validated; Reload()
// checks the new files (parsable, key matches certificate) and swaps the
// in-memory files' contents atomically (dup3 over the same descriptor).
// New handshakes use the new certificate within about a second; open
// connections and forwarding are untouched. The key never gets a second
// copy on disk.
#ifndef GROD_CONTROLPLANE_SERVER_CREDENTIALS_H_
#define GROD_CONTROLPLANE_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"
#include "proto/grod/v1/config.pb.h"

namespace grod::controlplane {

class ServerCredentialsSource {
 public:
  // Errors name the unreadable file or the missing half of a cert/key pair.
  static absl::StatusOr<std::unique_ptr<ServerCredentialsSource>> Create(
      const v1::SecurityConfig& security);
  ~ServerCredentialsSource();

  std::shared_ptr<grpc::ServerCredentials> credentials() const {
    return credentials_;
  }
  bool tls() const { return tls_; }

  // Re-reads and checks the PEM files; on error nothing changes. No-op
  // without TLS.
  absl::Status Reload();

 private:
  // One in-memory file: a descriptor whose contents Reload() replaces.
  struct MemFile {
    int fd = -1;
    std::string path() const;
  };
  ServerCredentialsSource() = default;
  absl::Status Load(bool initial);

  v1::SecurityConfig security_;
  bool tls_ = false;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  absl::Mutex mu_;
  MemFile cert_, key_, ca_;
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_SERVER_CREDENTIALS_H_
