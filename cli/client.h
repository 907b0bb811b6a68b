// grocli's connection to grod: global options (flags over environment),
// the channel, per-call contexts, and mapping failures to exit codes.
#ifndef GROD_CLI_CLIENT_H_
#define GROD_CLI_CLIENT_H_

#include <iosfwd>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "grpcpp/grpcpp.h"
#include "proto/grod/v1/grod.grpc.pb.h"

namespace grod::cli {

// Exit codes (also in the usage text).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// Largest request grocli sends (and reply it accepts): grod accepts 16 MiB,
// which fits the API's 100000 route hints per request.
inline constexpr int kMaxMessageBytes = 16 << 20;

struct ClientOptions {
  std::string server = "localhost:50051";
  bool tls = false;
  std::string ca, cert, key;
  std::string token;
  absl::Duration timeout = absl::Seconds(10);
  OutputFormat output = OutputFormat::kTable;  // -o
};

// --server, --tls, --ca, --cert, --key, --token-file, --token, --timeout,
// -o.
FlagParser GlobalFlags();
// Environment first (GROD_SERVER, GROD_TLS, GROD_CA, GROD_CERT, GROD_KEY,
// GROD_TOKEN_FILE, GROD_TOKEN), then flags. Errors are usage errors, among
// them a token bound for a non-local server without TLS (it would cross
// the network readable by anyone on the path). A token file that cannot be
// read (or holds no token) is not a usage error: FAILED_PRECONDITION.
absl::StatusOr<ClientOptions> ResolveOptions(const ParsedArgs& flags);

// The exit code for a local error: kExitUsage for INVALID_ARGUMENT (the
// command line is wrong), kExitFailed for the rest (a file could not be
// read).
int ExitCodeFor(const absl::Status& status);

// unix: sockets, localhost, 127.0.0.0/8 and [::1].
bool IsLocalServer(const std::string& server);

class Client {
 public:
  // Fails (FAILED_PRECONDITION) only if TLS files cannot be read; connecting is
  // lazy, so an unreachable server shows up on the first call.
  static absl::StatusOr<std::unique_ptr<Client>> Create(ClientOptions opts);

  v1::Grod::Stub& stub() { return *stub_; }
  const ClientOptions& options() const { return opts_; }
  // Carries the deadline and the bearer token. Streams get no deadline.
  std::unique_ptr<grpc::ClientContext> Context(bool stream = false) const;
  // Prints "grocli: <CODE>: <message>" to `err`, then one indented line per
  // field or quota violation the server attached ("  field <path>: <why>");
  // with -o json|yaml|textproto instead the google.rpc.Status (code,
  // message, details) in that format. Returns the exit code:
  // kExitUnreachable if the channel never connected, else kExitFailed.
  int Fail(const grpc::Status& status, std::ostream& err) const;

 private:
  explicit Client(ClientOptions opts) : opts_(std::move(opts)) {}

  ClientOptions opts_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Grod::Stub> stub_;
};

// "NOT_FOUND" etc.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace grod::cli

#endif  // GROD_CLI_CLIENT_H_
