#include "cli/completion.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace grod::cli {

namespace {

// What the scripts need, in shell words.
struct Words {
  std::string top;                            // "info ports tenant ..."
  std::map<std::string, std::string> groups;  // "tenant" -> "create get ..."
  std::string value_flags;                    // " --server -o ... " (padded)
  std::string global_flags;                   // "--server --tls ..."
  std::vector<std::pair<std::string, std::string>> command_flags;
  std::vector<std::pair<std::string, std::string>> command_words;
  // Flag spellings per kind of value: files, and fixed choices.
  std::string file_flags;
  std::vector<std::pair<std::string, std::string>> choices;
};

std::vector<std::string> Spellings(const FlagSpec& f) {
  std::vector<std::string> out = {"--" + f.name};
  if (f.short_name != 0) out.push_back(std::string("-") + f.short_name);
  return out;
}

Words Collect(const CompletionSpec& spec) {
  Words w;
  std::vector<std::string> top;
  std::set<std::string> value_flags, file_flags;
  std::map<std::string, std::set<std::string>> choice_flags;  // words->flags
  auto note = [&](const FlagSpec& f) {
    if (f.value_name.empty()) return;
    for (const std::string& s : Spellings(f)) {
      value_flags.insert(s);
      if (f.value_name == "FILE") file_flags.insert(s);
      if (f.value_name == "FORMAT") {
        choice_flags["table json yaml textproto"].insert(s);
      }
      if (f.value_name == "KIND") {
        choice_flags["per-burst timeout adaptive"].insert(s);
      }
      if (f.value_name == "MODE") choice_flags["merge list bypass"].insert(s);
    }
  };
  std::vector<std::string> global;
  for (const FlagSpec& f : spec.global_flags) {
    note(f);
    for (const std::string& s : Spellings(f)) global.push_back(s);
  }
  w.global_flags = absl::StrJoin(global, " ");
  for (const CompletionSpec::Entry& c : spec.commands) {
    std::vector<std::string> flags;  // --help is among the global flags
    for (const FlagSpec& f : c.flags) {
      note(f);
      if (!f.deprecated_for.empty()) continue;  // works, never suggested
      for (const std::string& s : Spellings(f)) flags.push_back(s);
    }
    w.command_flags.emplace_back(c.name, absl::StrJoin(flags, " "));
    if (!c.words.empty()) {
      w.command_words.emplace_back(c.name, absl::StrJoin(c.words, " "));
    }
    if (c.hidden) continue;
    std::vector<std::string> parts = absl::StrSplit(c.name, ' ');
    if (parts.size() == 2) {
      std::string& sub = w.groups[parts[0]];
      if (sub.empty()) top.push_back(parts[0]);
      absl::StrAppend(&sub, sub.empty() ? "" : " ", parts[1]);
    } else {
      top.push_back(c.name);
    }
  }
  w.top = absl::StrJoin(top, " ");
  w.value_flags = absl::StrCat(" ", absl::StrJoin(value_flags, " "), " ");
  w.file_flags = absl::StrJoin(file_flags, "|");
  for (const auto& [words, flags] : choice_flags) {
    w.choices.emplace_back(absl::StrJoin(flags, "|"), words);
  }
  return w;
}

std::string GroupNames(const Words& w) {
  std::vector<std::string> names;
  for (const auto& [g, sub] : w.groups) names.push_back(g);
  return absl::StrJoin(names, " ");
}

// Where the bash and zsh scripts differ; everything else (finding the
// command on the line, completing flag values, flags and words) is written
// once, by Script().
struct Shell {
  const char* head;  // comment, function start, cur and prev
  // The loop over the words before the cursor, setting `word`.
  const char* word_loop;
  const char* before_prev;  // bash resets COMPREPLY first
  // What completes a file name and a fixed list of words ("$1" below).
  const char* file_values;
  std::string (*choose_from)(const std::string& words);
  const char* after_value_flag;  // the value of a flag: offer nothing
  const char* words_var;         // zsh's $words is the command line
  const char* tail;              // offer flags or words, register
};

std::string Script(const CompletionSpec& spec, const Shell& sh) {
  const Words w = Collect(spec);
  std::string s = absl::StrCat(
      sh.head, "  local value_flags=\"", w.value_flags,
      "\"\n"
      "  local groups=\" ",
      GroupNames(w),
      " \"\n"
      "  # The command on the line: its first word, plus a subcommand when\n"
      "  # the first word is a group. Flag values are skipped.\n"
      "  local cmd=\"\" word i\n",
      sh.word_loop,
      "    if [[ \"$value_flags\" == *\" $word \"* ]]; then ((i++)); continue; "
      "fi\n"
      "    [[ \"$word\" == -* ]] && continue\n"
      "    if [[ -z \"$cmd\" ]]; then\n"
      "      cmd=\"$word\"\n"
      "    else\n"
      "      [[ \"$groups\" == *\" $cmd \"* ]] && cmd=\"$cmd $word\"\n"
      "      break\n"
      "    fi\n"
      "  done\n",
      sh.before_prev,
      "  case \"$prev\" in\n"
      "    ",
      w.file_flags, ") ", sh.file_values, "; return ;;\n");
  for (const auto& [flags, words] : w.choices) {
    absl::StrAppend(&s, "    ", flags, ") ", sh.choose_from(words),
                    "; return ;;\n");
  }
  absl::StrAppend(&s,
                  "  esac\n"
                  "  [[ \"$value_flags\" == *\" $prev \"* ]] && ",
                  sh.after_value_flag,
                  "\n"
                  "  local flags=\"",
                  w.global_flags, "\" ", sh.words_var,
                  "=\"\"\n"
                  "  case \"$cmd\" in\n");
  for (const auto& [name, flags] : w.command_flags) {
    if (flags.empty()) continue;
    absl::StrAppend(&s, "    \"", name, "\") flags=\"$flags ", flags,
                    "\" ;;\n");
  }
  absl::StrAppend(&s, "  esac\n  case \"$cmd\" in\n    \"\") ", sh.words_var,
                  "=\"", w.top, "\" ;;\n");
  for (const auto& [group, sub] : w.groups) {
    absl::StrAppend(&s, "    \"", group, "\") ", sh.words_var, "=\"", sub,
                    "\" ;;\n");
  }
  for (const auto& [name, words] : w.command_words) {
    absl::StrAppend(&s, "    \"", name, "\") ", sh.words_var, "=\"", words,
                    "\" ;;\n");
  }
  absl::StrAppend(&s, "  esac\n", sh.tail);
  return s;
}

const Shell kBash = {
    "# bash completion for grocli, generated by `grocli completion bash`.\n"
    "# Load it with:  source <(grocli completion bash)\n"
    "# or save it as /etc/bash_completion.d/grocli.\n"
    "_grocli() {\n"
    "  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
    "  local prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n",
    "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "    word=\"${COMP_WORDS[i]}\"\n",
    "  COMPREPLY=()\n",
    "COMPREPLY=($(compgen -f -- \"$cur\"))",
    [](const std::string& words) {
      return absl::StrCat("COMPREPLY=($(compgen -W \"", words,
                          "\" -- \"$cur\"))");
    },
    "return",
    "words",
    "  if [[ \"$cur\" == -* || -z \"$words\" ]]; then\n"
    "    [[ \"$cur\" == -* ]] && COMPREPLY=($(compgen -W \"$flags\" -- "
    "\"$cur\"))\n"
    "    return\n"
    "  fi\n"
    "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
    "}\n"
    "complete -F _grocli grocli\n",
};

const Shell kZsh = {
    "#compdef grocli\n"
    "# zsh completion for grocli, generated by `grocli completion zsh`.\n"
    "# Load it with:  source <(grocli completion zsh)   (after compinit)\n"
    "# or save it as _grocli in a directory on $fpath.\n"
    "_grocli() {\n"
    "  local cur=\"${words[CURRENT]}\" prev=\"${words[CURRENT-1]}\"\n",
    "  for ((i = 2; i < CURRENT; i++)); do\n"
    "    word=\"${words[i]}\"\n",
    "",
    "_files",
    [](const std::string& words) { return absl::StrCat("compadd -- ", words); },
    "return 1",
    "choices",
    "  if [[ \"$cur\" == -* ]]; then\n"
    "    compadd -- ${=flags}\n"
    "  elif [[ -n \"$choices\" ]]; then\n"
    "    compadd -- ${=choices}\n"
    "  else\n"
    "    return 1\n"
    "  fi\n"
    "}\n"
    "if [[ \"${funcstack[1]}\" == \"_grocli\" ]]; then\n"
    "  _grocli \"$@\"\n"
    "else\n"
    "  compdef _grocli grocli\n"
    "fi\n",
};

}  // namespace

std::string BashCompletionScript(const CompletionSpec& spec) {
  return Script(spec, kBash);
}

std::string ZshCompletionScript(const CompletionSpec& spec) {
  return Script(spec, kZsh);
}

}  // namespace grod::cli
