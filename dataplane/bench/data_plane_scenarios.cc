#include "dataplane/bench/data_plane_scenarios.h"

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "dataplane/bench/bench_eal.h"
#include "dataplane/bench/fatal.h"

namespace grod::dataplane::bench {
namespace {

// Workers may wait for StartForwarding() before polling RX (when the data
// plane has that call); works with and without it.
template <class DataPlaneT>
void StartForwardingIfNeeded(DataPlaneT& dp) {
  if constexpr (requires { dp.StartForwarding(); }) dp.StartForwarding();
}

}  // namespace

std::unique_ptr<DpdkDataPlane> StartDataPlane(std::vector<PortSpec> ports,
                                              uint32_t idle_sleep_us) {
  RuntimeConfig rc;
  rc.ports = std::move(ports);
  rc.mbufs = 16383;
  rc.idle_sleep_us = idle_sleep_us;
  absl::StatusOr<std::unique_ptr<DpdkDataPlane>> dp = DpdkDataPlane::Start(rc);
  Check(dp.status(), "DpdkDataPlane::Start");
  StartForwardingIfNeeded(**dp);
  return *std::move(dp);
}

TenantSpec TenantOn(const std::string& name, uint16_t port, GroMode mode) {
  TenantSpec t;
  t.name = name;
  t.selectors.push_back({port, std::nullopt, std::nullopt});
  t.default_mode = mode;
  return t;
}

Scenario IdleScenario(const std::string& tag, uint32_t idle_sleep_us) {
  Scenario s;
  s.name = idle_sleep_us ? absl::StrCat("idle, idle_sleep_us=", idle_sleep_us)
                         : "idle (busy polling)";
  const std::string dev = "net_null_b" + tag;
  s.rx_port = ProbeVdev(dev, "no-rx=1");
  s.dp = StartDataPlane({{dev, "", 512, 512}}, idle_sleep_us);
  return s;
}

Scenario TrafficScenario(const std::string& tag, const std::string& pcap) {
  Scenario s;
  s.name = "under traffic (worker 100% busy)";
  s.traffic = true;
  const std::string rx = "net_pcap_b" + tag, tx = "net_null_b" + tag;
  s.rx_port = ProbeVdev(rx, absl::StrCat("rx_pcap=", pcap, ",infinite_rx=1"));
  ProbeVdev(tx, "no-rx=1");
  s.dp = StartDataPlane({{rx, tx, 512, 512}, {tx, rx, 512, 512}}, 0);
  return s;
}

void StopScenario(Scenario& s) {
  s.dp->Stop();
  if (s.dp->MbufsInUse() != 0) Die("data plane leaked mbufs");
  s.dp.reset();
}

}  // namespace grod::dataplane::bench
