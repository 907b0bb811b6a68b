// Port bring-up: queues, descriptor rings, RSS, the MTU and the TX offloads
// the egress path relies on (multi-segment, TSO/USO, checksums) when
// present.
#ifndef GROD_DATAPLANE_RUNTIME_PORT_H_
#define GROD_DATAPLANE_RUNTIME_PORT_H_

#include <rte_mempool.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/dataplane_types.h"

namespace grod::dataplane {

struct PortQueues {
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  // MTU to configure (IP header to end); 0 = the device's default (1500).
  uint16_t mtu = 0;
};

// Looks up a port by its EAL device name ("net_pcap0", "0000:3b:00.0").
absl::StatusOr<uint16_t> PortByName(const std::string& device);

// Configures and starts the port; returns the offloads it will honour,
// its MTU and its PMD's TX limits (what egress must respect).
absl::StatusOr<PortCapabilities> StartPort(uint16_t port_id,
                                           const PortQueues& queues,
                                           rte_mempool* pool);

// Stops and closes the port (frees its queues and any mbufs in its rings).
void StopPort(uint16_t port_id);

// Name, driver, MAC, link state, MTU, queue counts.
PortInfo DescribePort(uint16_t port_id);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_PORT_H_
