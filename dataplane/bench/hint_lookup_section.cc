#include "dataplane/bench/hint_lookup_section.h"

#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/forwarding_harness.h"
#include "dataplane/bench/route_hints.h"
#include "dataplane/bench/statistics.h"
#include "dataplane/bench/traffic.h"
#include "dataplane/tenant/route_table.h"

namespace grod::dataplane::bench {

void HintLookupSection(int reps, uint32_t batch) {
  ForwardingHarness h(batch);
  const Frames frames =
      MakeTrains(Proto::kTcp4, 1024, batch, 16, 99, /*spread=*/true);
  // Around kSmallMaxHints the table switches from a RIB-backed FIB to
  // DIR-24-8: both sides of the switch are measured.
  const uint32_t counts[] = {0,
                             16,
                             1024,
                             RouteTable::kSmallMaxHints,
                             RouteTable::kSmallMaxHints + 1,
                             100000};
  std::vector<std::unique_ptr<RouteTable>> tables;
  for (uint32_t n : counts) {
    if (n == 0) {
      tables.push_back(nullptr);
      continue;
    }
    HintMap m;
    for (const RouteHint& hint : V4Hints(n, 5)) m[hint.prefix] = GroMode::kList;
    auto t = std::make_unique<RouteTable>(absl::StrCat("bench_rt", n));
    Check(t->Build(m), "route table");
    tables.push_back(std::move(t));
  }
  std::vector<std::vector<double>> cyc(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    h.Run(frames, FwdMode::kList, tables[i].get());  // warm-up
  }
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t j = 0; j < tables.size(); ++j) {
      const size_t i = (j + rep) % tables.size();
      cyc[i].push_back(
          h.Run(frames, FwdMode::kList, tables[i].get()).cycles_per_pkt);
    }
  }
  std::printf(
      "\n## Route-hint lookup cost per packet (TCP4 LIST, 1024 flows to "
      "pseudo-random destinations, %d interleaved repetitions, medians)\n\n"
      "Up to %u hints a family uses a RIB-backed FIB (tree walk per "
      "lookup), beyond that DIR-24-8.\n\n"
      "| IPv4 hints on the tenant | ns/pkt | Mpps | added ns/pkt vs no "
      "hints |\n|---:|---:|---:|---:|\n",
      reps, RouteTable::kSmallMaxHints);
  const double base = TscToNs(Median(cyc[0]));
  for (size_t i = 0; i < tables.size(); ++i) {
    const double ns = TscToNs(Median(cyc[i]));
    std::printf("| %u | %.0f | %.2f | %+.0f |\n", counts[i], ns, 1e3 / ns,
                ns - base);
  }
}

}  // namespace grod::dataplane::bench
