#include "cli/cmd_stats.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/output.h"
#include "cli/parse.h"

namespace grod::cli {

namespace {

void PrintStats(CommandEnv& env, const v1::Stats& st) {
  if (PrintStructured(env, st)) {  // one JSON line each: --watch gives NDJSON
    return;
  }
  env.out << "generation " << st.config_generation() << "  at "
          << absl::FormatTime("%Y-%m-%d %H:%M:%S",
                              absl::FromUnixSeconds(st.time().seconds()),
                              absl::LocalTimeZone())
          << "\n";
  Table t({"TENANT", "PKTS IN", "BYTES IN", "PKTS OUT", "MERGED OUT",
           "LIST OUT", "SEGS MERGED", "SEGS LISTED", "BYPASS", "HELD FLOWS",
           "HELD PKTS"});
  for (const v1::TenantStats& s : st.tenants()) {
    t.Add({s.tenant(), absl::StrCat(s.packets_in()), absl::StrCat(s.bytes_in()),
           absl::StrCat(s.packets_out()), absl::StrCat(s.merged_packets_out()),
           absl::StrCat(s.list_packets_out()),
           absl::StrCat(s.segments_merged()), absl::StrCat(s.segments_listed()),
           absl::StrCat(s.bypass_packets()), absl::StrCat(s.held_flows()),
           absl::StrCat(s.held_packets())});
  }
  t.Print(env.out);
  if (st.ports_size() > 0) {
    env.out << "\n";
    Table p({"PORT", "NAME", "RX PKTS", "RX BYTES", "RX MISSED", "TX PKTS",
             "TX BYTES", "TX DROPPED", "GSO SEGS"});
    for (const v1::PortStats& s : st.ports()) {
      p.Add({absl::StrCat(s.port_id()), s.name(), absl::StrCat(s.rx_packets()),
             absl::StrCat(s.rx_bytes()), absl::StrCat(s.rx_missed()),
             absl::StrCat(s.tx_packets()), absl::StrCat(s.tx_bytes()),
             absl::StrCat(s.tx_dropped()), absl::StrCat(s.gso_segments())});
    }
    p.Print(env.out);
  }
}

int RunStats(CommandEnv& env, const ParsedArgs& a) {
  if (a.positional().size() > 1) {
    return UsageError(env, "stats", "expected at most one TENANT");
  }
  const std::string tenant = a.positional().empty() ? "" : a.positional()[0];
  if (!a.Has("watch")) {
    if (a.Has("interval") || a.Has("count")) {
      return UsageError(env, "stats", "--interval and --count need --watch");
    }
    v1::GetStatsRequest req;
    req.set_tenant(tenant);
    v1::Stats st;
    grpc::Status s =
        env.client->stub().GetStats(env.client->Context().get(), req, &st);
    if (!s.ok()) return env.client->Fail(s, env.err);
    PrintStats(env, st);
    return kExitOk;
  }
  v1::WatchStatsRequest req;
  req.set_tenant(tenant);
  if (a.Has("interval")) {
    absl::StatusOr<google::protobuf::Duration> d =
        ParseProtoDuration(a.Get("interval"));
    if (!d.ok())
      return UsageError(env, "stats", std::string(d.status().message()));
    *req.mutable_interval() = *d;
  }
  uint32_t count = 0;  // 0 = until interrupted
  if (a.Has("count")) {
    absl::StatusOr<uint32_t> n = ParseUint(a.Get("count"), "--count");
    if (!n.ok())
      return UsageError(env, "stats", std::string(n.status().message()));
    count = *n;
  }
  auto ctx = env.client->Context(/*stream=*/true);
  auto reader = env.client->stub().WatchStats(ctx.get(), req);
  v1::Stats st;
  uint32_t seen = 0;
  while (reader->Read(&st)) {
    // Tables: on a terminal, redraw in place; into a pipe, append blocks.
    // JSON: one object per line. YAML: one document per update ("---").
    // Text format: messages separated by a blank line.
    const OutputFormat format = env.client->options().output;
    if (format == OutputFormat::kYaml) {
      env.out << "---\n";
    } else if (format == OutputFormat::kTable && env.out_is_tty) {
      env.out << "\033[H\033[2J";
    } else if (seen > 0 && format != OutputFormat::kJson) {
      env.out << "\n";
    }
    PrintStats(env, st);
    env.out.flush();
    if (count > 0 && ++seen >= count) {
      ctx->TryCancel();
      break;
    }
  }
  grpc::Status s = reader->Finish();
  if (s.ok() || (count > 0 && seen >= count)) return kExitOk;
  return env.client->Fail(s, env.err);
}

}  // namespace

Command StatsCommand() {
  return {
      "stats [TENANT] [--watch [--interval DUR] [--count N]]\n\n"
      "Counters per tenant (and per port with an admin credential).\n"
      "--watch refreshes every interval (default 1s, 100ms..1h): in\n"
      "place on a terminal, as repeated blocks otherwise; -o json\n"
      "writes one object per line, -o yaml one document per update.\n\n"
      "Examples:\n"
      "  grocli stats\n"
      "  grocli stats acme --watch --interval 500ms\n"
      "  grocli stats --watch --count 10 -o json > stats.ndjson\n",
      {{"watch", 'w', "", "stream updates until interrupted"},
       {"interval", 'i', "DUR", "time between updates with --watch"},
       {"count", 'n', "N", "stop after N updates"}},
      RunStats};
}

}  // namespace grod::cli
