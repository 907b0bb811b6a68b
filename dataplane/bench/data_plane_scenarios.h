// The real DpdkDataPlane with one worker lcore, in the worker states the
// config and hint-install sections measure: idle or under traffic.
#ifndef GROD_DATAPLANE_BENCH_DATA_PLANE_SCENARIOS_H_
#define GROD_DATAPLANE_BENCH_DATA_PLANE_SCENARIOS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/dataplane_types.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/runtime/runtime_config.h"

namespace grod::dataplane::bench {

// Starts the data plane on `ports` (16 383 mbufs) and lets its workers
// forward. Dies on failure.
std::unique_ptr<DpdkDataPlane> StartDataPlane(std::vector<PortSpec> ports,
                                              uint32_t idle_sleep_us);

// A tenant named `name` selecting everything received on `port`.
TenantSpec TenantOn(const std::string& name, uint16_t port, GroMode mode);

struct Scenario {
  std::string name;  // the worker state, as printed in the tables
  std::unique_ptr<DpdkDataPlane> dp;
  uint16_t rx_port = 0;
  bool traffic = false;
};

// Idle: one net_null port with no RX; the worker polls it in a tight loop
// (or sleeps idle_sleep_us between empty polls). `tag` makes the device
// name unique.
Scenario IdleScenario(const std::string& tag, uint32_t idle_sleep_us);

// Under traffic: net_pcap replays `pcap` (TCP bulk traffic) forever; the
// worker merges it and transmits to net_null through GSO.
Scenario TrafficScenario(const std::string& tag, const std::string& pcap);

// Stops the data plane; dies if it leaked mbufs.
void StopScenario(Scenario& s);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_DATA_PLANE_SCENARIOS_H_
