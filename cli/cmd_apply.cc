#include "cli/cmd_apply.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/apply_file.h"
#include "cli/files.h"
#include "cli/output.h"
#include "google/protobuf/text_format.h"

namespace grod::cli {

namespace {

using Change = v1::ConfigChange;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The value at `path` ("flush_policy.timeout") of `m`, in grocli's
// spellings where it has them, else protobuf text format.
std::string ValueAt(const v1::Tenant& t, const std::string& path) {
  if (path == "selectors") {
    std::vector<std::string> s;
    for (const auto& sel : t.selectors()) s.push_back(SelectorText(sel));
    return absl::StrCat("[", absl::StrJoin(s, " "), "]");
  }
  if (path == "gro_types") {
    std::vector<std::string> s;
    for (int g : t.gro_types()) s.push_back(GroTypeText(g));
    return s.empty() ? "all" : absl::StrJoin(s, ",");
  }
  if (path == "default_mode") return ModeText(t.default_mode());
  if (path == "flush_policy.timeout") {
    return t.flush_policy().has_timeout()
               ? DurationText(t.flush_policy().timeout())
               : "none";
  }
  const Message* m = &t;
  const FieldDescriptor* f = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (f != nullptr) m = &m->GetReflection()->GetMessage(*m, f);
    f = m->GetDescriptor()->FindFieldByName(std::string(part));
    if (f == nullptr) return "?";
  }
  std::string out;
  google::protobuf::TextFormat::PrintFieldValueToString(*m, f, -1, &out);
  return out;
}

std::string TenantLine(const v1::Tenant& t) {
  std::vector<std::string> sel;
  for (const auto& s : t.selectors()) sel.push_back(SelectorText(s));
  return absl::StrCat(t.name(), " (selectors ", absl::StrJoin(sel, " "),
                      "; mode ", ModeText(t.default_mode()), "; flush ",
                      FlushText(t.flush_policy()), ")");
}

int Run(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 0, "no arguments (the file is -f FILE)");
      !s.ok()) {
    return UsageError(env, "apply", std::string(s.message()));
  }
  if (!a.Has("file")) return UsageError(env, "apply", "-f FILE is required");
  const std::string path = a.Get("file");
  absl::StatusOr<std::string> text = ReadInputFile(path, "-f");
  if (!text.ok()) return LocalFailure(env, text.status());
  // Bad content is the file's fault, not the command line's: exit 1.
  absl::StatusOr<v1::ApplyConfigRequest> req =
      ParseApplyFile(*text, FormatOf(path), path == "-" ? "<stdin>" : path);
  if (!req.ok()) return LocalFailure(env, req.status());
  if (req->dry_run() || !req->etag().empty()) {
    return UsageError(env, "apply",
                      "the file sets dry_run or etag; give them as "
                      "--dry-run and --etag instead");
  }
  req->set_dry_run(a.Has("dry-run"));
  req->set_etag(a.Get("etag"));
  v1::ApplyConfigResponse resp;
  grpc::Status s =
      env.client->stub().ApplyConfig(env.client->Context().get(), *req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  if (!PrintStructured(env, resp)) env.out << DiffText(resp, req->dry_run());
  return kExitOk;
}

}  // namespace

std::string DiffText(const v1::ApplyConfigResponse& resp, bool dry_run) {
  std::string out;
  for (const Change& c : resp.changes()) {
    switch (c.action()) {
      case Change::CREATE_TENANT:
        absl::StrAppend(&out, "+ tenant ", TenantLine(c.after()), "\n");
        break;
      case Change::DELETE_TENANT:
        absl::StrAppend(&out, "- tenant ", c.tenant(), " (",
                        c.before().route_hint_count(), " route hints)\n");
        break;
      case Change::UPDATE_TENANT: {
        std::vector<std::string> fields;
        for (const std::string& p : c.changed_fields().paths()) {
          fields.push_back(absl::StrCat(p, ": ", ValueAt(c.before(), p), " -> ",
                                        ValueAt(c.after(), p)));
        }
        absl::StrAppend(&out, "~ tenant ", c.tenant(), ": ",
                        absl::StrJoin(fields, ", "), "\n");
        break;
      }
      case Change::ADD_ROUTE_HINT:
        absl::StrAppend(&out, "+ route ", c.tenant(), " ", c.prefix(), " ",
                        ModeText(c.mode_after()), "\n");
        break;
      case Change::CHANGE_ROUTE_HINT:
        absl::StrAppend(&out, "~ route ", c.tenant(), " ", c.prefix(), " ",
                        ModeText(c.mode_before()), " -> ",
                        ModeText(c.mode_after()), "\n");
        break;
      case Change::REMOVE_ROUTE_HINT:
        absl::StrAppend(&out, "- route ", c.tenant(), " ", c.prefix(), " ",
                        ModeText(c.mode_before()), "\n");
        break;
      default:
        absl::StrAppend(&out, "? ", Change::Action_Name(c.action()), " ",
                        c.tenant(), "\n");
    }
  }
  const int n = resp.changes_size();
  if (n == 0) {
    absl::StrAppend(&out, "no changes: grod already has this configuration");
  } else if (dry_run) {
    absl::StrAppend(&out, n, n == 1 ? " change" : " changes",
                    " (dry run: nothing applied)");
  } else {
    absl::StrAppend(&out, n, n == 1 ? " change" : " changes", " applied");
  }
  absl::StrAppend(&out, "; etag ", resp.etag(), " (generation ",
                  resp.config_generation(), ")\n");
  return out;
}

Command ApplyCommand() {
  return {
      "apply -f FILE [--dry-run] [--etag ETAG]\n\n"
      "Makes grod's tenants and route hints exactly those in FILE: creates,\n"
      "updates and deletes (tenants not in FILE are deleted), all or\n"
      "nothing, and prints the difference. Applying the same file again\n"
      "changes nothing. FILE is a grod.v1.ApplyConfigRequest in YAML\n"
      "(.yaml, .yml; also '-' = stdin), JSON (.json, protobuf JSON mapping)\n"
      "or text format (.textproto, .txtpb, .pbtxt). See docs/OPERATIONS.md,\n"
      "\"Declarative configuration\".\n\n"
      "Examples:\n"
      "  grocli apply -f tenants.yaml --dry-run   # show what would change\n"
      "  grocli apply -f tenants.yaml --etag 42   # only if still at etag 42\n"
      "  grocli apply -f tenants.json -o json   # the response as JSON\n",
      {{"file", 'f', "FILE", "the desired tenants and route hints"},
       {"dry-run", 0, "", "print the difference, change nothing"},
       {"etag", 0, "ETAG",
        "apply only if the configuration is still at this etag (printed by "
        "a dry run)"}},
      Run};
}

}  // namespace grod::cli
