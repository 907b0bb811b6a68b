// Throw-away TLS material for tests, made with the system's openssl: a CA,
// a server certificate for localhost/127.0.0.1 and a client certificate,
// all signed by the CA (ECDSA P-256, valid two days).
#ifndef GROD_COMMON_TESTING_TEST_CERTS_H_
#define GROD_COMMON_TESTING_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace grod::testing {

struct TestCerts {
  std::string dir;
  // File paths.
  std::string ca_cert, server_cert, server_key, client_cert, client_key;
  // A second, unrelated CA and a client certificate it signed (must be
  // refused by a server trusting only `ca_cert`).
  std::string other_ca_cert, other_client_cert, other_client_key;
};

// Writes the files into `dir` (created if needed). Fails if openssl is
// missing or fails.
absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir);

// Reads a whole file ("" if unreadable).
std::string ReadTestFile(const std::string& path);

}  // namespace grod::testing

#endif  // GROD_COMMON_TESTING_TEST_CERTS_H_
