// grocli's small flag parser.
//
// absl flags are process-global, which makes per-subcommand flag sets and
// usage awkward; this parser takes an explicit spec per subcommand instead.
// Accepts "--name value", "--name=value", "-x value" and boolean "--name";
// "--" ends flags.
#ifndef GROD_CLI_FLAGS_H_
#define GROD_CLI_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grod::cli {

struct FlagSpec {
  std::string name;        // without dashes: "page-size"
  char short_name = 0;     // 'o' for -o
  std::string value_name;  // empty = boolean flag
  std::string help;
  bool repeated = false;
  // An old spelling kept so scripts keep working: its value is stored under
  // this (canonical) flag's name and ParsedArgs::warnings() says so.
  std::string deprecated_for;
};

class ParsedArgs {
 public:
  bool Has(const std::string& name) const { return values_.contains(name); }
  std::string Get(const std::string& name, const std::string& def = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // "--kind is deprecated, use --flush" for each deprecated spelling used.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  friend class FlagParser;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  std::vector<std::string> warnings_;
};

class FlagParser {
 public:
  explicit FlagParser(std::vector<FlagSpec> specs) : specs_(std::move(specs)) {}

  // Unknown flags are a usage error (INVALID_ARGUMENT).
  absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args) const;
  // Takes the flags this parser knows out of `args` and leaves everything
  // else (other flags, positionals) in `rest`, in order. Used for the
  // global flags, which may appear anywhere on the command line.
  absl::StatusOr<ParsedArgs> Extract(const std::vector<std::string>& args,
                                     std::vector<std::string>* rest) const;
  // One line per flag, aligned, for usage text.
  std::string Usage() const;
  const std::vector<FlagSpec>& specs() const { return specs_; }

 private:
  absl::StatusOr<ParsedArgs> Run(const std::vector<std::string>& args,
                                 std::vector<std::string>* rest) const;
  const FlagSpec* Find(const std::string& arg) const;

  std::vector<FlagSpec> specs_;
};

}  // namespace grod::cli

#endif  // GROD_CLI_FLAGS_H_
