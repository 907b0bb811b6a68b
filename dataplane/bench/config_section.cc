#include "dataplane/bench/config_section.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "common/dataplane_types.h"
#include "dataplane/bench/data_plane_scenarios.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/route_hints.h"
#include "dataplane/bench/statistics.h"
#include "dataplane/dpdk_dataplane.h"

namespace grod::dataplane::bench {
namespace {

struct Latencies {
  std::vector<double> us;
  // "median | p99 | max", the last three cells of a table row.
  std::string Row() const {
    return absl::StrFormat("%.1f | %.1f | %.1f", Median(us), Percentile(us, 99),
                           Max(us));
  }
};

// Wall time of call(0) .. call(n - 1); dies if one fails.
Latencies TimeCalls(int n, const std::function<absl::Status(int)>& call,
                    const std::string& what) {
  Latencies l;
  l.us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status s = call(i);
    const auto t1 = std::chrono::steady_clock::now();
    Check(s, what);
    l.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return l;
}

uint64_t RxPackets(const DpdkDataPlane& dp) {
  uint64_t n = 0;
  for (const PortCounters& p : dp.Stats().ports) n += p.rx_packets;
  return n;
}

}  // namespace

void ConfigSection(int changes, const std::string& pcap, uint32_t big_hints) {
  std::printf(
      "\n## Config change -> every worker lcore using it (%d changes per "
      "row; call latency in us)\n\n",
      changes);
  std::printf(
      "The calls return only after every worker acknowledged the change "
      "(context rebuild through its command ring) and/or an RCU grace period "
      "passed (snapshot swap), so the call latency is the time until every "
      "lcore uses the new config. One worker lcore. The 1-hint rows add "
      "distinct /24s to a tenant that already has hints.\n\n");
  std::printf(
      "| worker state | change | median | p99 | max |\n"
      "|---|---|---:|---:|---:|\n");
  std::vector<std::function<Scenario()>> makers = {
      [] { return IdleScenario("cfg0", 0); },
      [&] { return TrafficScenario("cfg1", pcap); },
      [] { return IdleScenario("cfg2", 100); },
  };
  for (auto& make : makers) {
    Scenario s = make();
    TenantSpec t = TenantOn("bench", s.rx_port, GroMode::kMerge);
    t.flush.timeout_ns = 50'000;
    Check(s.dp->UpsertTenant(t), "create tenant");
    // The tenant's first IPv4 hint creates its two DIR-24-8 tables.
    const auto f0 = std::chrono::steady_clock::now();
    Check(s.dp->AddRouteHints("bench", {{V4(0xc6000000u, 16), GroMode::kList}}),
          "first hint");
    const double first_hint_us = std::chrono::duration<double, std::micro>(
                                     std::chrono::steady_clock::now() - f0)
                                     .count();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const uint64_t rx0 = RxPackets(*s.dp);
    const auto start = std::chrono::steady_clock::now();

    Latencies policy = TimeCalls(
        changes,
        [&](int i) {
          t.flush.kind = i % 2 ? FlushKind::kPerBurst : FlushKind::kTimeout;
          return s.dp->UpsertTenant(t);
        },
        "policy change");
    t.flush.kind = FlushKind::kPerBurst;
    Latencies quota = TimeCalls(
        changes,
        [&](int i) {
          t.max_flows = i % 2 ? 4096 : 4000;
          return s.dp->UpsertTenant(t);
        },
        "quota change");
    Latencies hint = TimeCalls(
        changes,
        [&](int i) {
          const RouteHint h{V4(0xc6120000u + uint32_t(i) * 256, 24),
                            i % 2 ? GroMode::kList : GroMode::kBypass};
          return s.dp->AddRouteHints("bench", {h});
        },
        "1 hint");
    // A tenant that already has many hints: what one more costs.
    TenantSpec big = TenantOn("big", s.rx_port, GroMode::kMerge);
    big.selectors[0].vlan_id = 4000;  // a selector of its own
    Check(s.dp->UpsertTenant(big), "create big tenant");
    Check(s.dp->AddRouteHints("big", V4Hints(big_hints, 3)), "big hints");
    Latencies hint_big = TimeCalls(
        std::max(10, changes / 5),
        [&](int i) {
          const RouteHint h{V4(0x0a000000u + uint32_t(i), 32),
                            i % 2 ? GroMode::kList : GroMode::kBypass};
          return s.dp->AddRouteHints("big", {h});
        },
        "1 hint on a big tenant");
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    const double mpps = (RxPackets(*s.dp) - rx0) / secs / 1e6;
    std::string state = s.name;
    if (s.traffic) state += absl::StrFormat(", %.2f Mpps", mpps);
    std::printf("| %s | UpsertTenant: flush policy (snapshot swap) | %s |\n",
                state.c_str(), policy.Row().c_str());
    std::printf(
        "| %s | UpsertTenant: max_flows (context rebuild + swap) | %s |\n",
        state.c_str(), quota.Row().c_str());
    std::printf("| %s | AddRouteHints: 1 hint | %s |\n", state.c_str(),
                hint.Row().c_str());
    std::printf(
        "| %s | AddRouteHints: the tenant's first IPv4 hint (creates its "
        "route tables), once | %.1f | | |\n",
        state.c_str(), first_hint_us);
    std::printf(
        "| %s | AddRouteHints: 1 hint, tenant already has %u hints (%zu "
        "changes) | %s |\n",
        state.c_str(), big_hints, hint_big.us.size(), hint_big.Row().c_str());
    StopScenario(s);
  }
}

}  // namespace grod::dataplane::bench
