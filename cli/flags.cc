#include "cli/flags.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace grod::cli {

std::string ParsedArgs::Get(const std::string& name,
                            const std::string& def) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return def;
  return it->second.back();  // the last occurrence wins
}

std::vector<std::string> ParsedArgs::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

const FlagSpec* FlagParser::Find(const std::string& name) const {
  for (const FlagSpec& s : specs_) {
    if (s.name == name) return &s;
    if (name.size() == 1 && s.short_name == name[0]) return &s;
  }
  return nullptr;
}

absl::StatusOr<ParsedArgs> FlagParser::Parse(
    const std::vector<std::string>& args) const {
  return Run(args, nullptr);
}

absl::StatusOr<ParsedArgs> FlagParser::Extract(
    const std::vector<std::string>& args,
    std::vector<std::string>* rest) const {
  return Run(args, rest);
}

absl::StatusOr<ParsedArgs> FlagParser::Run(
    const std::vector<std::string>& args,
    std::vector<std::string>* rest) const {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      // Everything after "--" is positional; when extracting, keep the
      // "--" so the subcommand's parser sees it too.
      if (rest != nullptr) {
        rest->insert(rest->end(), args.begin() + i, args.end());
      } else {
        out.positional_.insert(out.positional_.end(), args.begin() + i + 1,
                               args.end());
      }
      break;
    }
    const bool is_long = absl::StartsWith(arg, "--") && arg.size() > 2;
    const bool is_short = !is_long && arg.size() == 2 && arg[0] == '-' &&
                          arg[1] != '-' && !std::isdigit(arg[1]);
    if (!is_long && !is_short) {
      if (rest != nullptr) {
        rest->push_back(arg);
      } else {
        out.positional_.push_back(arg);
      }
      continue;
    }
    std::string name = arg.substr(is_long ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); is_long && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = Find(name);
    if (spec == nullptr) {
      if (rest != nullptr) {
        rest->push_back(arg);
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    }
    if (!spec->deprecated_for.empty()) {
      const FlagSpec* canonical = Find(spec->deprecated_for);
      if (canonical != nullptr) {
        out.warnings_.push_back(absl::StrCat(
            "--", spec->name, " is deprecated, use --", canonical->name));
        spec = canonical;
      }
    }
    if (spec->value_name.empty()) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", spec->name, " takes no value"));
      }
      if (value == "false") {
        out.values_.erase(spec->name);
      } else {
        out.values_[spec->name].push_back("true");
      }
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "flag --", spec->name, " needs a value (", spec->value_name, ")"));
      }
      value = args[++i];
    }
    auto& slot = out.values_[spec->name];
    if (!spec->repeated) slot.clear();
    slot.push_back(value);
  }
  return out;
}

std::string FlagParser::Usage() const {
  std::vector<std::string> lefts;
  size_t width = 0;
  for (const FlagSpec& s : specs_) {
    std::string left =
        s.short_name ? absl::StrCat("-", std::string(1, s.short_name), ", ")
                     : "    ";
    absl::StrAppend(&left, "--", s.name);
    if (!s.value_name.empty()) absl::StrAppend(&left, " ", s.value_name);
    width = std::max(width, left.size());
    lefts.push_back(std::move(left));
  }
  std::string out;
  for (size_t i = 0; i < specs_.size(); ++i) {
    absl::StrAppend(
        &out, "  ", lefts[i], std::string(width - lefts[i].size() + 2, ' '),
        specs_[i].help, specs_[i].repeated ? " (repeatable)" : "",
        specs_[i].deprecated_for.empty()
            ? ""
            : absl::StrCat("deprecated: use --", specs_[i].deprecated_for),
        "\n");
  }
  return out;
}

}  // namespace grod::cli
