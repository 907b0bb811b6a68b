#include "cli/cmd_policy.h"

#include "absl/strings/str_cat.h"
#include "cli/output.h"
#include "cli/parse.h"

namespace grod::cli {

namespace {

void PrintPolicy(CommandEnv& env, const v1::FlushPolicy& p) {
  if (PrintStructured(env, p)) {
    return;
  }
  Table t({"FIELD", "VALUE"});
  t.Add({"flush", FlushText(p)});
  t.Add({"max merged bytes", absl::StrCat(p.max_merged_bytes())});
  t.Add({"max segments", absl::StrCat(p.max_segments())});
  t.Print(env.out);
}

int RunSet(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "TENANT"); !s.ok()) {
    return UsageError(env, "policy set", std::string(s.message()));
  }
  v1::SetFlushPolicyRequest req;
  req.set_tenant(a.positional()[0]);
  v1::FlushPolicy* p = req.mutable_policy();
  if (!a.Has("flush"))
    return UsageError(env, "policy set", "--flush is required");
  absl::StatusOr<v1::FlushKind> kind = ParseFlushKind(a.Get("flush"));
  if (!kind.ok()) {
    return UsageError(env, "policy set", std::string(kind.status().message()));
  }
  p->set_kind(*kind);
  if (a.Has("flush-timeout")) {
    absl::StatusOr<google::protobuf::Duration> d =
        ParseProtoDuration(a.Get("flush-timeout"));
    if (!d.ok()) {
      return UsageError(env, "policy set", std::string(d.status().message()));
    }
    *p->mutable_timeout() = *d;
  }
  for (const char* flag : {"max-merged-bytes", "max-segments"}) {
    if (!a.Has(flag)) continue;
    absl::StatusOr<uint32_t> v = ParseUint(a.Get(flag), flag);
    if (!v.ok()) {
      return UsageError(env, "policy set", std::string(v.status().message()));
    }
    if (std::string(flag) == "max-segments") {
      p->set_max_segments(*v);
    } else {
      p->set_max_merged_bytes(*v);
    }
  }
  v1::FlushPolicy resp;
  grpc::Status s = env.client->stub().SetFlushPolicy(
      env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  PrintPolicy(env, resp);
  return kExitOk;
}

int RunGet(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "TENANT"); !s.ok()) {
    return UsageError(env, "policy get", std::string(s.message()));
  }
  v1::GetFlushPolicyRequest req;
  req.set_tenant(a.positional()[0]);
  v1::FlushPolicy resp;
  grpc::Status s = env.client->stub().GetFlushPolicy(
      env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  PrintPolicy(env, resp);
  return kExitOk;
}

}  // namespace

Command PolicySetCommand() {
  return {
      "policy set TENANT --flush KIND [--flush-timeout DUR] [flags]\n\n"
      "Replaces a tenant's flush policy. per-burst flushes at the end of\n"
      "every RX burst; timeout holds a flow at most DUR; adaptive flushes\n"
      "at once when the queue is idle and holds up to DUR under load.\n"
      "The flags are spelled as in 'tenant create/update'.\n\n"
      "Examples:\n"
      "  grocli policy set acme --flush timeout --flush-timeout 100us\n"
      "  grocli policy set acme --flush per-burst --max-segments 16\n",
      {{"flush", 0, "KIND", "per-burst, timeout or adaptive"},
       {"flush-timeout", 0, "DUR", "1us..10s, for timeout and adaptive"},
       {"max-merged-bytes", 0, "N",
        "1..524288 (default 65535; >65535: BIG TCP, TCP only)"},
       {"max-segments", 0, "N", "1..64 (default 64)"},
       {"kind", 0, "KIND", "", false, "flush"},
       {"timeout", 0, "DUR", "", false, "flush-timeout"}},
      RunSet};
}

Command PolicyGetCommand() {
  return {
      "policy get TENANT\n\nShows a tenant's flush policy.\n\n"
      "Example:\n  grocli policy get acme\n",
      {},
      RunGet};
}

}  // namespace grod::cli
