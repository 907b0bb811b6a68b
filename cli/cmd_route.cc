#include "cli/cmd_route.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/files.h"
#include "cli/output.h"
#include "cli/parse.h"

namespace grod::cli {

namespace {

int RunAdd(CommandEnv& env, const ParsedArgs& a) {
  const auto& pos = a.positional();
  if (pos.empty() || pos.size() % 2 != 1) {
    return UsageError(env, "route add", "expected TENANT [PREFIX MODE]...");
  }
  v1::AddRouteHintsRequest req;
  req.set_tenant(pos[0]);
  for (size_t i = 1; i < pos.size(); i += 2) {
    absl::StatusOr<v1::GroMode> mode = ParseMode(pos[i + 1]);
    if (!mode.ok()) {
      return UsageError(env, "route add", std::string(mode.status().message()));
    }
    v1::RouteHint* h = req.add_hints();
    h->set_prefix(pos[i]);
    h->set_mode(*mode);
  }
  if (a.Has("file")) {
    absl::StatusOr<std::string> text = ReadInputFile(a.Get("file"), "--file");
    if (!text.ok()) return LocalFailure(env, text.status());
    // Bad content is the file's fault, not the command line's: exit 1.
    absl::StatusOr<std::vector<v1::RouteHint>> hints =
        ParseHintLines(*text, a.Get("file"));
    if (!hints.ok()) return LocalFailure(env, hints.status());
    for (auto& h : *hints) *req.add_hints() = std::move(h);
  }
  if (req.hints_size() == 0) {
    return UsageError(env, "route add", "no hints: give PREFIX MODE or --file");
  }
  v1::AddRouteHintsResponse resp;
  grpc::Status s =
      env.client->stub().AddRouteHints(env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  if (!PrintStructured(env, resp)) {
    env.out << "added " << resp.added() << ", replaced " << resp.replaced()
            << "; tenant " << req.tenant() << " has " << resp.total()
            << " route hints\n";
  }
  return kExitOk;
}

int RunDel(CommandEnv& env, const ParsedArgs& a) {
  const auto& pos = a.positional();
  if (pos.empty()) {
    return UsageError(env, "route delete", "expected TENANT [PREFIX]...");
  }
  v1::RemoveRouteHintsRequest req;
  req.set_tenant(pos[0]);
  req.set_allow_missing(a.Has("allow-missing"));
  for (size_t i = 1; i < pos.size(); ++i) req.add_prefixes(pos[i]);
  if (a.Has("file")) {
    absl::StatusOr<std::string> text = ReadInputFile(a.Get("file"), "--file");
    if (!text.ok()) return LocalFailure(env, text.status());
    // The file format of `route add` works here: the mode is ignored.
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      if (const size_t hash = line.find('#'); hash != std::string::npos) {
        line.resize(hash);
      }
      std::istringstream words(line);
      std::string prefix;
      if (words >> prefix) req.add_prefixes(prefix);
    }
  }
  if (req.prefixes_size() == 0) {
    return UsageError(env, "route delete",
                      "no prefixes: give PREFIX or --file");
  }
  v1::RemoveRouteHintsResponse resp;
  grpc::Status s = env.client->stub().RemoveRouteHints(
      env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  if (!PrintStructured(env, resp)) {
    env.out << "removed " << resp.removed() << "; tenant " << req.tenant()
            << " has " << resp.total() << " route hints\n";
  }
  return kExitOk;
}

int RunList(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "TENANT"); !s.ok()) {
    return UsageError(env, "route list", std::string(s.message()));
  }
  v1::ListRouteHintsRequest req;
  req.set_tenant(a.positional()[0]);
  if (a.Has("page-size")) {
    absl::StatusOr<uint32_t> n = ParseUint(a.Get("page-size"), "--page-size");
    if (!n.ok()) {
      return UsageError(env, "route list", std::string(n.status().message()));
    }
    req.set_page_size(static_cast<int32_t>(*n));
  }
  v1::ListRouteHintsResponse all;
  do {
    v1::ListRouteHintsResponse page;
    grpc::Status s = env.client->stub().ListRouteHints(
        env.client->Context().get(), req, &page);
    if (!s.ok()) return env.client->Fail(s, env.err);
    all.mutable_hints()->MergeFrom(page.hints());
    all.set_total(page.total());
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  if (PrintStructured(env, all)) {
    return kExitOk;
  }
  // Same format as `route add --file` reads, so a listing can be re-applied.
  Table t({"PREFIX", "MODE"});
  for (const v1::RouteHint& h : all.hints()) {
    t.Add({h.prefix(), ModeText(h.mode())});
  }
  t.Print(env.out);
  return kExitOk;
}

}  // namespace

Command RouteAddCommand() {
  return {
      "route add TENANT [PREFIX MODE]... [--file FILE]\n\n"
      "Adds route hints (destination prefix -> merge|list|bypass; the\n"
      "longest matching prefix wins). Existing prefixes get the new mode.\n"
      "One request, all-or-nothing, at most 100000 hints. FILE has one\n"
      "\"PREFIX MODE\" per line ('#' comments; '-' = stdin).\n\n"
      "Examples:\n"
      "  grocli route add acme 10.1.0.0/16 list 2001:db8::/32 bypass\n"
      "  grocli route add acme --file hints.txt\n",
      {{"file", 'f', "FILE", "read \"PREFIX MODE\" lines from FILE"}},
      RunAdd};
}

Command RouteDeleteCommand() {
  return {
      "route delete TENANT [PREFIX]... [--file FILE] [--allow-missing]\n\n"
      "Removes route hints, all-or-nothing. Without --allow-missing a\n"
      "prefix that is not a hint fails the whole request.\n\n"
      "'route del' is the same command.\n\n"
      "Example:\n  grocli route delete acme 10.1.0.0/16\n",
      {{"file", 'f', "FILE", "read prefixes (first word per line)"},
       {"allow-missing", 0, "", "ignore prefixes that are not hints"}},
      RunDel};
}

Command RouteListCommand() {
  return {
      "route list TENANT\n\nLists a tenant's route hints in prefix order "
      "(every page).\n\nExample:\n  grocli route list acme\n",
      {{"page-size", 0, "N", "hints per request (1..10000)"}},
      RunList};
}

}  // namespace grod::cli
