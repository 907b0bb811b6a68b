#include "cli/command.h"

#include "absl/strings/str_cat.h"
#include "cli/output.h"

namespace grod::cli {

int UsageError(CommandEnv& env, const std::string& name,
               const std::string& message) {
  env.err << "grocli: " << message << "\n"
          << "Run 'grocli " << name << " --help' for usage.\n";
  return kExitUsage;
}

int RunCommand(CommandEnv& env, const std::string& name, const Command& cmd,
               const std::vector<std::string>& args) {
  std::vector<FlagSpec> flags = cmd.flags;
  flags.push_back({"help", 'h', "", "show this help"});
  FlagParser parser(flags);
  absl::StatusOr<ParsedArgs> parsed = parser.Parse(args);
  if (!parsed.ok()) {
    return UsageError(env, name, std::string(parsed.status().message()));
  }
  if (parsed->Has("help")) {
    env.out << "Usage: grocli " << cmd.usage << "\nFlags:\n"
            << parser.Usage()
            << "Global flags (--server, --token, --tls, -o json, ...): "
               "see 'grocli --help'.\n";
    return kExitOk;
  }
  for (const std::string& w : parsed->warnings()) {
    env.err << "grocli: warning: " << w << "\n";
  }
  return cmd.run(env, *parsed);
}

bool PrintStructured(CommandEnv& env,
                     const google::protobuf::Message& message) {
  const OutputFormat format = env.client->options().output;
  if (format == OutputFormat::kTable) return false;
  PrintMessage(message, format, env.out);
  return true;
}

int LocalFailure(CommandEnv& env, const absl::Status& status) {
  env.err << "grocli: " << status.message() << "\n";
  return kExitFailed;
}

absl::Status WantArgs(const ParsedArgs& args, size_t n, const char* names) {
  if (args.positional().size() == n) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "expected ", names, " (got ", args.positional().size(), " arguments)"));
}

}  // namespace grod::cli
