#include "dataplane/bench/hint_install_section.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/dataplane_types.h"
#include "dataplane/bench/data_plane_scenarios.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/route_hints.h"
#include "dataplane/bench/statistics.h"

namespace grod::dataplane::bench {
namespace {

// Seconds for one AddRouteHints call with `hints` on a fresh tenant, or
// nullopt (and the error in *error) if it fails.
std::optional<double> InstallOnce(Scenario& s,
                                  const std::vector<RouteHint>& hints,
                                  std::string* error) {
  Check(s.dp->UpsertTenant(TenantOn("hints", s.rx_port, GroMode::kMerge)),
        "create tenant");
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = s.dp->AddRouteHints("hints", hints);
  const auto t1 = std::chrono::steady_clock::now();
  Check(s.dp->RemoveTenant("hints"), "remove tenant");
  if (!st.ok()) {
    if (error) *error = std::string(st.message());
    return std::nullopt;
  }
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

void HintInstallSection(int reps, uint32_t n, const std::string& pcap) {
  std::printf(
      "\n## Route hint install: one AddRouteHints call with %u prefixes on "
      "one tenant (seconds; %d repetition(s), fresh tenant each)\n\n",
      n, reps);
  std::printf(
      "IPv4: 95%% /16../24, 5%% /32. IPv6 provider mix: under "
      "2001:db8::/32, 4096 sites, 15%% /48, 30%% /56, 50%% /64, 5%% /128. "
      "IPv6 dense: consecutive /64s. Each call fills the spare table, "
      "publishes it (one grace period), then brings the other table up to "
      "date. When %u do not fit, the largest leading part of the list that "
      "installs is found (to 1/1024) and timed instead.\n\n",
      n);
  std::printf(
      "| worker state | family | hints installed | median s | max s | "
      "hints/s |\n|---|---|---:|---:|---:|---:|\n");
  struct Family {
    const char* name;
    std::vector<RouteHint> hints;
    uint32_t fits = 0;  // 0 = not probed yet
    std::string error;
  };
  Family families[] = {
      {"IPv4 (mix)", V4Hints(n, 1)},
      {"IPv6 (provider mix)", V6Hints(n, 2)},
      {"IPv6 (dense /64s)", V6DenseHints(n)},
  };
  std::vector<std::function<Scenario()>> makers = {
      [] { return IdleScenario("hint0", 0); },
      [&] { return TrafficScenario("hint1", pcap); },
  };
  for (auto& make : makers) {
    Scenario s = make();
    for (Family& fam : families) {
      if (fam.fits == 0) {
        fam.fits = n;
        if (!InstallOnce(s, fam.hints, &fam.error)) {
          // Binary search for the longest leading part that installs.
          uint32_t lo = 0, hi = n;
          while (hi - lo > std::max(1u, n / 1024)) {
            const uint32_t mid = (lo + hi) / 2;
            std::vector<RouteHint> part(fam.hints.begin(),
                                        fam.hints.begin() + mid);
            (InstallOnce(s, part, nullptr) ? lo : hi) = mid;
          }
          fam.fits = lo;
        }
      }
      std::vector<RouteHint> part(fam.hints.begin(),
                                  fam.hints.begin() + fam.fits);
      std::vector<double> secs;
      for (int r = 0; r < reps && !part.empty(); ++r) {
        std::optional<double> t = InstallOnce(s, part, nullptr);
        if (!t) Die("a hint set that installed before failed");
        secs.push_back(*t);
      }
      std::string count = absl::StrCat(fam.fits);
      if (fam.fits < n) {
        count = absl::StrCat("**", fam.fits, " of ", n, "** (", n, ": \"",
                             fam.error, "\")");
      }
      std::printf("| %s | %s | %s | %.3f | %.3f | %.0f |\n", s.name.c_str(),
                  fam.name, count.c_str(), Median(secs), Max(secs),
                  secs.empty() ? 0 : fam.fits / Median(secs));
    }
    StopScenario(s);
  }
}

}  // namespace grod::dataplane::bench
