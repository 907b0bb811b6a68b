#include "cli/cmd_tenant.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"
#include "cli/parse.h"

namespace grod::cli {

namespace {

std::vector<FlagSpec> TenantFlags() {
  return {
      {"selector", 0, "SEL",
       "traffic it owns: port=N,vlan=N,vni=N (any subset; '*' = all)", true},
      {"max-flows", 0, "N", "flows held per worker lcore (default 4096)"},
      {"max-held", 0, "N", "packets held per worker lcore (default 16384)"},
      {"gro-types", 0, "LIST",
       "tcp4,tcp6,udp4,udp6,ipv4-frag,vxlan or all (default all)"},
      {"mode", 0, "MODE", "default mode: merge (default), list or bypass"},
      {"flush", 0, "KIND", "per-burst (default), timeout or adaptive"},
      {"flush-timeout", 0, "DUR", "hold limit for timeout/adaptive, 1us..10s"},
      {"max-merged-bytes", 0, "N",
       "largest merged payload, 1..524288 (>65535: BIG TCP)"},
      {"max-segments", 0, "N", "most segments per merged packet, 1..64"},
  };
}

// Sets the fields named by flags on `t` (and their paths on `mask`).
absl::Status ApplyTenantFlags(const ParsedArgs& a, v1::Tenant* t,
                              google::protobuf::FieldMask* mask) {
  if (a.Has("selector")) {
    t->clear_selectors();
    for (const std::string& s : a.GetAll("selector")) {
      absl::StatusOr<v1::TrafficSelector> sel = ParseSelector(s);
      if (!sel.ok()) return sel.status();
      *t->add_selectors() = *sel;
    }
    mask->add_paths("selectors");
  }
  if (a.Has("max-flows")) {
    absl::StatusOr<uint32_t> v = ParseUint(a.Get("max-flows"), "--max-flows");
    if (!v.ok()) return v.status();
    t->mutable_quotas()->set_max_flows(*v);
    mask->add_paths("quotas.max_flows");
  }
  if (a.Has("max-held")) {
    absl::StatusOr<uint32_t> v = ParseUint(a.Get("max-held"), "--max-held");
    if (!v.ok()) return v.status();
    t->mutable_quotas()->set_max_held_packets(*v);
    mask->add_paths("quotas.max_held_packets");
  }
  if (a.Has("gro-types")) {
    absl::StatusOr<std::vector<v1::GroType>> types =
        ParseGroTypes(a.Get("gro-types"));
    if (!types.ok()) return types.status();
    t->clear_gro_types();
    for (v1::GroType g : *types) t->add_gro_types(g);
    mask->add_paths("gro_types");
  }
  if (a.Has("mode")) {
    absl::StatusOr<v1::GroMode> m = ParseMode(a.Get("mode"));
    if (!m.ok()) return m.status();
    t->set_default_mode(*m);
    mask->add_paths("default_mode");
  }
  // Each flush flag names only its own field of the policy (nested mask
  // paths), so an update needs no read of the current policy first.
  v1::FlushPolicy* p = t->mutable_flush_policy();
  if (a.Has("flush")) {
    absl::StatusOr<v1::FlushKind> k = ParseFlushKind(a.Get("flush"));
    if (!k.ok()) return k.status();
    p->set_kind(*k);
    mask->add_paths("flush_policy.kind");
    // A per-burst policy has no timeout: clear the stored one.
    if (*k == v1::FLUSH_KIND_PER_BURST && !a.Has("flush-timeout")) {
      p->clear_timeout();
      mask->add_paths("flush_policy.timeout");
    }
  }
  if (a.Has("flush-timeout")) {
    absl::StatusOr<google::protobuf::Duration> d =
        ParseProtoDuration(a.Get("flush-timeout"));
    if (!d.ok()) return d.status();
    *p->mutable_timeout() = *d;
    mask->add_paths("flush_policy.timeout");
  }
  if (a.Has("max-merged-bytes")) {
    absl::StatusOr<uint32_t> v =
        ParseUint(a.Get("max-merged-bytes"), "--max-merged-bytes");
    if (!v.ok()) return v.status();
    p->set_max_merged_bytes(*v);
    mask->add_paths("flush_policy.max_merged_bytes");
  }
  if (a.Has("max-segments")) {
    absl::StatusOr<uint32_t> v =
        ParseUint(a.Get("max-segments"), "--max-segments");
    if (!v.ok()) return v.status();
    p->set_max_segments(*v);
    mask->add_paths("flush_policy.max_segments");
  }
  return absl::OkStatus();
}

std::string Types(const v1::Tenant& t) {
  if (t.gro_types_size() == 0) return "all";
  std::vector<std::string> names;
  for (int g : t.gro_types()) names.push_back(GroTypeText(g));
  return absl::StrJoin(names, ",");
}

std::string Selectors(const v1::Tenant& t) {
  std::vector<std::string> parts;
  for (const auto& s : t.selectors()) parts.push_back(SelectorText(s));
  return absl::StrJoin(parts, " ");
}

void PrintTenant(CommandEnv& env, const v1::Tenant& t) {
  if (PrintStructured(env, t)) {
    return;
  }
  Table table({"FIELD", "VALUE"});
  table.Add({"name", t.name()});
  table.Add({"selectors", Selectors(t)});
  table.Add({"default mode", ModeText(t.default_mode())});
  table.Add({"gro types", Types(t)});
  table.Add({"flush", FlushText(t.flush_policy())});
  table.Add(
      {"max merged bytes", absl::StrCat(t.flush_policy().max_merged_bytes())});
  table.Add({"max segments", absl::StrCat(t.flush_policy().max_segments())});
  table.Add({"max flows", absl::StrCat(t.quotas().max_flows())});
  table.Add({"max held packets", absl::StrCat(t.quotas().max_held_packets())});
  table.Add({"route hints", absl::StrCat(t.route_hint_count())});
  table.Print(env.out);
}

int RunCreate(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "NAME"); !s.ok()) {
    return UsageError(env, "tenant create", std::string(s.message()));
  }
  v1::CreateTenantRequest req;
  req.mutable_tenant()->set_name(a.positional()[0]);
  google::protobuf::FieldMask unused;
  if (absl::Status s = ApplyTenantFlags(a, req.mutable_tenant(), &unused);
      !s.ok()) {
    return UsageError(env, "tenant create", std::string(s.message()));
  }
  v1::Tenant resp;
  grpc::Status s =
      env.client->stub().CreateTenant(env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  PrintTenant(env, resp);
  return kExitOk;
}

int RunGet(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "NAME"); !s.ok()) {
    return UsageError(env, "tenant get", std::string(s.message()));
  }
  v1::GetTenantRequest req;
  req.set_name(a.positional()[0]);
  v1::Tenant resp;
  grpc::Status s =
      env.client->stub().GetTenant(env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  PrintTenant(env, resp);
  return kExitOk;
}

int RunList(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 0, "no arguments"); !s.ok()) {
    return UsageError(env, "tenant list", std::string(s.message()));
  }
  v1::ListTenantsRequest req;
  if (a.Has("page-size")) {
    absl::StatusOr<uint32_t> n = ParseUint(a.Get("page-size"), "--page-size");
    if (!n.ok())
      return UsageError(env, "tenant list", std::string(n.status().message()));
    req.set_page_size(static_cast<int32_t>(*n));
  }
  // Follows page tokens so the listing is complete.
  v1::ListTenantsResponse all;
  do {
    v1::ListTenantsResponse page;
    grpc::Status s =
        env.client->stub().ListTenants(env.client->Context().get(), req, &page);
    if (!s.ok()) return env.client->Fail(s, env.err);
    all.mutable_tenants()->MergeFrom(page.tenants());
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  if (PrintStructured(env, all)) {
    return kExitOk;
  }
  Table t({"NAME", "SELECTORS", "MODE", "GRO TYPES", "FLUSH", "MAX FLOWS",
           "MAX HELD", "HINTS"});
  for (const v1::Tenant& x : all.tenants()) {
    t.Add({x.name(), Selectors(x), ModeText(x.default_mode()), Types(x),
           FlushText(x.flush_policy()), absl::StrCat(x.quotas().max_flows()),
           absl::StrCat(x.quotas().max_held_packets()),
           absl::StrCat(x.route_hint_count())});
  }
  t.Print(env.out);
  return kExitOk;
}

int RunUpdate(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "NAME"); !s.ok()) {
    return UsageError(env, "tenant update", std::string(s.message()));
  }
  v1::UpdateTenantRequest req;
  req.mutable_tenant()->set_name(a.positional()[0]);
  if (absl::Status s =
          ApplyTenantFlags(a, req.mutable_tenant(), req.mutable_update_mask());
      !s.ok()) {
    return UsageError(env, "tenant update", std::string(s.message()));
  }
  if (req.update_mask().paths_size() == 0) {
    return UsageError(env, "tenant update", "nothing to change: give a flag");
  }
  v1::Tenant resp;
  grpc::Status s =
      env.client->stub().UpdateTenant(env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  PrintTenant(env, resp);
  return kExitOk;
}

int RunDelete(CommandEnv& env, const ParsedArgs& a) {
  if (absl::Status s = WantArgs(a, 1, "NAME"); !s.ok()) {
    return UsageError(env, "tenant delete", std::string(s.message()));
  }
  v1::DeleteTenantRequest req;
  req.set_name(a.positional()[0]);
  google::protobuf::Empty resp;
  grpc::Status s =
      env.client->stub().DeleteTenant(env.client->Context().get(), req, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  if (!PrintStructured(env, resp)) {
    env.out << "deleted tenant " << req.name() << "\n";
  }
  return kExitOk;
}

}  // namespace

Command TenantCreateCommand() {
  return {
      "tenant create NAME --selector SEL [flags]\n\n"
      "Creates a tenant: its own GRO context on every worker lcore for\n"
      "the traffic its selectors match.\n\n"
      "Examples:\n"
      "  grocli tenant create acme --selector port=0,vlan=100\n"
      "  grocli tenant create blue --selector vni=5001 --mode list \\\n"
      "      --flush adaptive --flush-timeout 200us --gro-types tcp4,tcp6\n",
      TenantFlags(), RunCreate};
}

Command TenantGetCommand() {
  return {
      "tenant get NAME\n\nShows one tenant.\n\n"
      "Example:\n  grocli tenant get acme -o json\n",
      {},
      RunGet};
}

Command TenantListCommand() {
  return {
      "tenant list\n\nLists all tenants (every page).\n\n"
      "Example:\n  grocli tenant list\n",
      {{"page-size", 0, "N", "tenants per request (1..1000)"}},
      RunList};
}

Command TenantUpdateCommand() {
  return {
      "tenant update NAME [flags]\n\n"
      "Changes only the settings given as flags.\n\n"
      "Examples:\n"
      "  grocli tenant update acme --max-flows 8192\n"
      "  grocli tenant update acme --selector port=0,vlan=100 "
      "--selector port=1,vlan=100\n",
      TenantFlags(), RunUpdate};
}

Command TenantDeleteCommand() {
  return {
      "tenant delete NAME\n\n"
      "Deletes a tenant and its route hints; held packets are flushed.\n\n"
      "Example:\n  grocli tenant delete acme\n",
      {},
      RunDelete};
}

}  // namespace grod::cli
