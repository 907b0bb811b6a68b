// grocli: the command-line client of grod's gRPC API.
#include <unistd.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/cmd_apply.h"
#include "cli/cmd_info.h"
#include "cli/cmd_policy.h"
#include "cli/cmd_route.h"
#include "cli/cmd_stats.h"
#include "cli/cmd_tenant.h"
#include "cli/cmd_version.h"
#include "cli/command.h"
#include "cli/completion.h"

namespace grod::cli {
namespace {

constexpr char kUsage[] = R"(Usage: grocli [global flags] COMMAND [args] [flags]

Controls a running grod over its gRPC API.

Commands:
  info                          version, uptime, lcores, readiness
  ports                         DPDK ports, offloads, forwarding peers
  tenant create NAME --selector SEL [flags]
  tenant get NAME
  tenant list
  tenant update NAME [flags]    change only the settings given
  tenant delete NAME            (alias: tenant del)
  route add TENANT [PREFIX MODE]... [--file FILE]
  route delete TENANT [PREFIX]... [--file FILE] [--allow-missing]
                                (alias: route del)
  route list TENANT
  policy set TENANT --flush per-burst|timeout|adaptive [--flush-timeout DUR]
  policy get TENANT
  stats [TENANT] [--watch] [--interval 1s]
  apply -f FILE [--dry-run]     make tenants and hints exactly FILE's
  version [--client]            grocli's version and grod's
  completion bash|zsh           shell completion script

Run 'grocli COMMAND --help' for a command's flags and examples.

Global flags (anywhere on the line; environment variables in parentheses):
%s
Output (-o): table for people (default); json (proto3 JSON mapping, one
line per resource), yaml (the same data as block YAML) or textproto for
scripts.

Exit codes:
  0  success
  1  failed: grod refused the request (stderr has one line
     "grocli: <CODE>: <message>"), or a file named by a flag or an
     environment variable cannot be read or holds bad content (stderr:
     "grocli: <flag>: cannot read <path>: <reason>"); nothing changed
  2  usage error (bad command, flag or argument); nothing was sent
  3  grod unreachable (not running, wrong --server, TLS handshake failed)

Examples:
  grocli info
  grocli tenant create acme --selector port=0,vlan=100 --flush timeout --flush-timeout 100us
  grocli route add acme 10.0.0.0/8 list
  grocli route add acme --file hints.txt        # "PREFIX MODE" per line
  grocli tenant list -o json | jq '.tenants[].name'
  grocli tenant get acme -o yaml
  grocli stats --watch --interval 500ms
  grocli --server unix:/run/grod/grod.sock --token-file ~/.grod-token info
  GROD_SERVER=10.0.0.5:50051 GROD_TOKEN_FILE=~/.grod-token grocli --ca ca.pem tenant list
)";

const std::map<std::string, Command (*)()>& Commands();
const std::map<std::string, std::string>& Aliases();

int RunCompletion(CommandEnv& env, const ParsedArgs& args) {
  if (absl::Status s = WantArgs(args, 1, "SHELL (bash or zsh)"); !s.ok()) {
    return UsageError(env, "completion", std::string(s.message()));
  }
  const std::string& shell = args.positional()[0];
  if (shell != "bash" && shell != "zsh") {
    return UsageError(env, "completion",
                      "unknown shell \"" + shell + "\": expected bash or zsh");
  }
  CompletionSpec spec;
  spec.global_flags = GlobalFlags().specs();
  for (const auto& [name, make] : Commands()) {
    Command c = make();
    spec.commands.push_back({name, c.flags, {}, false});
    if (name == "completion") spec.commands.back().words = {"bash", "zsh"};
  }
  for (const auto& [alias, name] : Aliases()) {
    spec.commands.push_back({alias, Commands().at(name)().flags, {}, true});
  }
  env.out << (shell == "bash" ? BashCompletionScript(spec)
                              : ZshCompletionScript(spec));
  return kExitOk;
}

Command CompletionCommand() {
  return {
      "completion bash|zsh\n\n"
      "Prints a script that completes grocli's commands, flags and flag\n"
      "values in that shell.\n\n"
      "Examples:\n"
      "  source <(grocli completion bash)      # in ~/.bashrc\n"
      "  grocli completion bash > /etc/bash_completion.d/grocli\n"
      "  source <(grocli completion zsh)       # in ~/.zshrc, after compinit\n",
      {},
      RunCompletion};
}

const std::map<std::string, Command (*)()>& Commands() {
  static const auto* m = new std::map<std::string, Command (*)()>{
      {"info", InfoCommand},
      {"ports", PortsCommand},
      {"tenant create", TenantCreateCommand},
      {"tenant get", TenantGetCommand},
      {"tenant list", TenantListCommand},
      {"tenant update", TenantUpdateCommand},
      {"tenant delete", TenantDeleteCommand},
      {"route add", RouteAddCommand},
      {"route delete", RouteDeleteCommand},
      {"route list", RouteListCommand},
      {"policy set", PolicySetCommand},
      {"policy get", PolicyGetCommand},
      {"stats", StatsCommand},
      {"apply", ApplyCommand},
      {"version", VersionCommand},
      {"completion", CompletionCommand},
  };
  return *m;
}

// Other spellings of a command, kept so scripts keep working.
const std::map<std::string, std::string>& Aliases() {
  static const auto* m = new std::map<std::string, std::string>{
      {"route del", "route delete"},
      {"tenant del", "tenant delete"},
  };
  return *m;
}

void PrintUsage(std::ostream& out) {
  const std::string usage = kUsage;
  const size_t at = usage.find("%s");
  out << usage.substr(0, at) << GlobalFlags().Usage() << usage.substr(at + 2);
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> rest;
  absl::StatusOr<ParsedArgs> global = GlobalFlags().Extract(args, &rest);
  if (!global.ok()) {
    std::cerr << "grocli: " << global.status().message()
              << "\nRun 'grocli --help' for usage.\n";
    return kExitUsage;
  }
  if (rest.empty() || rest[0] == "help") {
    if (!rest.empty() || global->Has("help")) {
      PrintUsage(std::cout);
      return kExitOk;
    }
    std::cerr << "grocli: no command given\n";
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  // "tenant create ..." vs "info ...": try two words, then one.
  std::string name = rest[0];
  size_t used = 1;
  if (rest.size() >= 2) {
    std::string two = rest[0] + " " + rest[1];
    if (auto alias = Aliases().find(two); alias != Aliases().end()) {
      two = alias->second;
    }
    if (Commands().contains(two)) {
      name = two;
      used = 2;
    }
  }
  auto it = Commands().find(name);
  if (it == Commands().end() && name.rfind("-", 0) == 0) {
    std::cerr << "grocli: unknown flag \"" << name
              << "\"\nRun 'grocli --help' for usage.\n";
    return kExitUsage;
  }
  if (it == Commands().end()) {
    bool is_group = false;
    for (const auto& [n, c] : Commands()) {
      if (n.rfind(rest[0] + " ", 0) == 0) is_group = true;
    }
    std::cerr << "grocli: unknown command \"" << name
              << (is_group ? " ...\": give a subcommand" : "\"")
              << "\nRun 'grocli --help' for usage.\n";
    return kExitUsage;
  }
  std::vector<std::string> cmd_args(rest.begin() + used, rest.end());
  // --help after the command belongs to the command.
  if (global->Has("help")) cmd_args.push_back("--help");

  absl::StatusOr<ClientOptions> opts = ResolveOptions(*global);
  if (!opts.ok()) {
    std::cerr << "grocli: " << opts.status().message() << "\n";
    if (ExitCodeFor(opts.status()) == kExitUsage) {
      std::cerr << "Run 'grocli --help' for usage.\n";
    }
    return ExitCodeFor(opts.status());
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*opts);
  if (!client.ok()) {
    std::cerr << "grocli: " << client.status().message() << "\n";
    return ExitCodeFor(client.status());
  }
  CommandEnv env{client->get(), std::cout, std::cerr, isatty(1) == 1};
  return RunCommand(env, name, it->second(), cmd_args);
}

}  // namespace
}  // namespace grod::cli

int main(int argc, char** argv) { return grod::cli::Main(argc, argv); }
