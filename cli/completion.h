// Shell completion scripts for grocli, generated from its command table
// and flag specs so they never fall behind the commands.
#ifndef GROD_CLI_COMPLETION_H_
#define GROD_CLI_COMPLETION_H_

#include <string>
#include <vector>

#include "cli/flags.h"

namespace grod::cli {

struct CompletionSpec {
  struct Entry {
    std::string name;  // "tenant create", "info"
    std::vector<FlagSpec> flags;
    std::vector<std::string> words;  // fixed positional words, e.g. shells
    bool hidden = false;             // an alias: parsed, never offered
  };
  std::vector<Entry> commands;
  std::vector<FlagSpec> global_flags;
};

// A script for `source <(grocli completion bash)`: completes command and
// subcommand names, the flags of the command on the line (and the global
// ones), and the values of -o, --flush, --mode and file flags.
std::string BashCompletionScript(const CompletionSpec& spec);
// The same for zsh, to source after compinit or to save as _grocli on
// $fpath.
std::string ZshCompletionScript(const CompletionSpec& spec);

}  // namespace grod::cli

#endif  // GROD_CLI_COMPLETION_H_
