// What every grocli subcommand gets, and the helpers they share.
#ifndef GROD_CLI_COMMAND_H_
#define GROD_CLI_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/client.h"
#include "cli/flags.h"
#include "google/protobuf/message.h"

namespace grod::cli {

struct CommandEnv {
  Client* client;
  std::ostream& out;
  std::ostream& err;
  bool out_is_tty = false;
};

// A subcommand: its usage (synopsis + description + examples, without the
// flag list), its flags, and what it does with parsed arguments.
struct Command {
  std::string usage;
  std::vector<FlagSpec> flags;
  int (*run)(CommandEnv& env, const ParsedArgs& args);
};

// Parses `args` with the command's flags and runs it; handles --help and
// usage errors (exit 2, message on stderr).
int RunCommand(CommandEnv& env, const std::string& name, const Command& cmd,
               const std::vector<std::string>& args);

// Prints "grocli: <message>" and a pointer to --help; returns kExitUsage.
int UsageError(CommandEnv& env, const std::string& name,
               const std::string& message);

// A failure on this side of the wire that is not the command line's fault
// (a file that cannot be read or holds bad content): prints
// "grocli: <message>" and returns kExitFailed.
int LocalFailure(CommandEnv& env, const absl::Status& status);

// With -o json|yaml|textproto prints `message` in that format and returns
// true; with the default table format prints nothing and returns false.
bool PrintStructured(CommandEnv& env, const google::protobuf::Message& message);

// Positional arguments check: exactly `n`.
absl::Status WantArgs(const ParsedArgs& args, size_t n, const char* names);

}  // namespace grod::cli

#endif  // GROD_CLI_COMMAND_H_
