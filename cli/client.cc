#include "cli/client.h"

#include <arpa/inet.h>

#include <chrono>
#include <cstdlib>
#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/error_details.h"
#include "cli/files.h"

namespace grod::cli {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const char* flag) {
  absl::StatusOr<std::string> text =
      ReadInputFile(path, absl::StrCat("--", flag));
  if (text.ok() && text->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", flag, ": ", path, " is empty"));
  }
  return text;
}

// The first non-empty line of a token file, without surrounding spaces.
absl::StatusOr<std::string> ReadToken(const std::string& path,
                                      const char* origin) {
  absl::StatusOr<std::string> text = ReadInputFile(path, origin);
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    const std::string token(absl::StripAsciiWhitespace(line));
    if (!token.empty()) return token;
  }
  return absl::FailedPreconditionError(
      absl::StrCat(origin, ": ", path, " holds no token"));
}

// One token source per level: flags, then the environment.
absl::StatusOr<std::string> ResolveToken(const std::string& token,
                                         const std::string& token_file,
                                         const char* token_name,
                                         const char* file_name) {
  if (!token.empty() && !token_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("give ", token_name, " or ", file_name, ", not both"));
  }
  if (!token_file.empty()) return ReadToken(token_file, file_name);
  return token;
}

}  // namespace

bool IsLocalServer(const std::string& server) {
  if (absl::StartsWith(server, "unix:") ||
      absl::StartsWith(server, "unix-abstract:")) {
    return true;
  }
  absl::string_view rest = server;
  absl::ConsumePrefix(&rest, "dns:///");
  absl::ConsumePrefix(&rest, "ipv4:");
  absl::ConsumePrefix(&rest, "ipv6:");
  std::string host;
  if (absl::ConsumePrefix(&rest, "[")) {
    host = std::string(rest.substr(0, rest.find(']')));
  } else {
    host = std::string(rest.substr(0, rest.rfind(':')));
  }
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 &&
         IN6_IS_ADDR_LOOPBACK(&v6);
}

FlagParser GlobalFlags() {
  return FlagParser({
      {"server", 0, "ADDRESS",
       "grod address: HOST:PORT or unix:/PATH (env GROD_SERVER; default "
       "localhost:50051)"},
      {"tls", 0, "", "use TLS (env GROD_TLS=1; implied by --ca/--cert)"},
      {"ca", 0, "FILE", "CA certificate to verify grod (env GROD_CA)"},
      {"cert", 0, "FILE", "client certificate for mutual TLS (env GROD_CERT)"},
      {"key", 0, "FILE", "client private key for mutual TLS (env GROD_KEY)"},
      {"token-file", 0, "FILE",
       "file whose first line is the credential sent as 'authorization: "
       "Bearer' (env GROD_TOKEN_FILE); sent only over TLS or to a local "
       "address"},
      {"token", 0, "SECRET",
       "the credential itself (env GROD_TOKEN); visible in ps and shell "
       "history, prefer --token-file"},
      {"deadline", 0, "DURATION", "per-call deadline (default 10s)"},
      {"output", 'o', "FORMAT",
       "table (default), json, yaml or textproto (see Output below)"},
      {"help", 'h', "", "show usage"},
  });
}

absl::StatusOr<ClientOptions> ResolveOptions(const ParsedArgs& flags) {
  ClientOptions o;
  if (!Env("GROD_SERVER").empty()) o.server = Env("GROD_SERVER");
  const std::string tls_env = Env("GROD_TLS");
  o.tls = tls_env == "1" || tls_env == "true" || tls_env == "yes";
  o.ca = Env("GROD_CA");
  o.cert = Env("GROD_CERT");
  o.key = Env("GROD_KEY");
  absl::StatusOr<std::string> env_token =
      ResolveToken(Env("GROD_TOKEN"), Env("GROD_TOKEN_FILE"), "GROD_TOKEN",
                   "GROD_TOKEN_FILE");
  o.server = flags.Get("server", o.server);
  if (flags.Has("tls")) o.tls = true;
  o.ca = flags.Get("ca", o.ca);
  o.cert = flags.Get("cert", o.cert);
  o.key = flags.Get("key", o.key);
  if (flags.Has("token") || flags.Has("token-file")) {
    absl::StatusOr<std::string> t = ResolveToken(
        flags.Get("token"), flags.Get("token-file"), "--token", "--token-file");
    if (!t.ok()) return t.status();
    o.token = *t;
  } else {
    if (!env_token.ok()) return env_token.status();
    o.token = *env_token;
  }
  if (!o.ca.empty() || !o.cert.empty()) o.tls = true;
  if (o.cert.empty() != o.key.empty()) {
    return absl::InvalidArgumentError("--cert and --key go together");
  }
  if (!o.token.empty() && !o.tls && !IsLocalServer(o.server)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to send the token to ", o.server,
        " without TLS: anyone on the network path could read it. Use --tls "
        "(or --ca), or a local address (unix:/run/grod/grod.sock, "
        "localhost:PORT)"));
  }
  if (flags.Has("deadline")) {
    if (!absl::ParseDuration(flags.Get("deadline"), &o.timeout) ||
        o.timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          "--deadline: expected a positive duration such as 5s or 500ms");
    }
  }
  absl::StatusOr<OutputFormat> output =
      ParseOutputFormat(flags.Get("output", "table"));
  if (!output.ok()) return output.status();
  o.output = *output;
  return o;
}

int ExitCodeFor(const absl::Status& status) {
  return absl::IsInvalidArgument(status) ? kExitUsage : kExitFailed;
}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions opts) {
  std::unique_ptr<Client> c(new Client(std::move(opts)));
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (c->opts_.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!c->opts_.ca.empty()) {
      absl::StatusOr<std::string> ca = ReadFile(c->opts_.ca, "ca");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (!c->opts_.cert.empty()) {
      absl::StatusOr<std::string> cert = ReadFile(c->opts_.cert, "cert");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile(c->opts_.key, "key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  c->channel_ = grpc::CreateCustomChannel(c->opts_.server, creds, args);
  c->stub_ = v1::Grod::NewStub(c->channel_);
  return c;
}

std::unique_ptr<grpc::ClientContext> Client::Context(bool stream) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!stream) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(opts_.timeout));
  }
  if (!opts_.token.empty()) {
    ctx->AddMetadata("authorization", "Bearer " + opts_.token);
  }
  return ctx;
}

int Client::Fail(const grpc::Status& status, std::ostream& err) const {
  const bool unreachable =
      (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
       status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) &&
      channel_->GetState(false) != GRPC_CHANNEL_READY;
  google::rpc::Status rpc = RpcStatusOf(status);
  if (unreachable) {
    rpc.set_message(absl::StrCat("cannot reach grod at ", opts_.server, ": ",
                                 rpc.message()));
  }
  if (opts_.output == OutputFormat::kTable) {
    err << "grocli: " << StatusCodeName(status.error_code()) << ": "
        << rpc.message() << "\n"
        << ViolationLines(rpc);
  } else {
    // What the server sent, whole, for programs: google.rpc.Status with its
    // details (BadRequest.fieldViolations, ...) in the -o format.
    PrintMessage(rpc, opts_.output, err);
  }
  return unreachable ? kExitUnreachable : kExitFailed;
}

std::string StatusCodeName(grpc::StatusCode code) {
  // gRPC's and Abseil's codes are the same numbers (both are google.rpc.Code).
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace grod::cli
