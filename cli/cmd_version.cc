#include "cli/cmd_version.h"

#include "cli/output.h"
#include "cli/version_info.pb.h"
#include "grod/version.h"

namespace grod::cli {

namespace {

void Print(CommandEnv& env, const VersionInfo& v) {
  if (PrintStructured(env, v)) return;
  Table t({"COMPONENT", "VERSION", "BUILD"});
  t.Add({"grocli", v.client().version(), v.client().build()});
  if (v.has_server()) {
    t.Add({"grod", v.server().version(), v.server().build()});
  }
  t.Print(env.out);
}

int RunVersion(CommandEnv& env, const ParsedArgs& args) {
  if (absl::Status s = WantArgs(args, 0, "no arguments"); !s.ok()) {
    return UsageError(env, "version", std::string(s.message()));
  }
  VersionInfo v;
  v.mutable_client()->set_version(kVersion);
  v.mutable_client()->set_build(BuildInfo());
  if (args.Has("client")) {
    Print(env, v);
    return kExitOk;
  }
  v1::ServiceInfo info;
  grpc::Status s =
      env.client->stub().GetInfo(env.client->Context().get(), {}, &info);
  if (!s.ok()) {
    // The client half is known: print it, then say why the server's is not.
    Print(env, v);
    return env.client->Fail(s, env.err);
  }
  v.mutable_server()->set_version(info.version());
  v.mutable_server()->set_build(info.build());
  Print(env, v);
  return kExitOk;
}

}  // namespace

Command VersionCommand() {
  return {
      "version [--client]\n\n"
      "This grocli's version and build, and the connected grod's (from\n"
      "GetInfo). If grod cannot be reached, prints grocli's and fails\n"
      "with grod's error.\n\n"
      "Examples:\n"
      "  grocli version\n"
      "  grocli version --client -o json\n",
      {{"client", 0, "", "only grocli's version; do not contact grod"}},
      RunVersion};
}

}  // namespace grod::cli
