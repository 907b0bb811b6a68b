// What the DPDK runtime needs to start: plain values, filled by grod's main
// from the config file and flags.
#ifndef GROD_DATAPLANE_RUNTIME_RUNTIME_CONFIG_H_
#define GROD_DATAPLANE_RUNTIME_RUNTIME_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

namespace grod::dataplane {

struct PortSpec {
  std::string device;  // EAL device name, e.g. "net_pcap0" or "0000:3b:00.0"
  std::string peer;    // device to forward to; empty = paired in probe order
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  // Largest TSO packet the NIC takes (from the IP header on); above 65535
  // BIG TCP packets go to it whole instead of software GSO.
  uint32_t tso_max_bytes = 65535;
  // MTU to configure on the port (IP header to end); 0 = the device's
  // default. Egress keeps every frame without TSO/USO within it.
  uint16_t mtu = 0;
  // Non-empty: a tap port (dataplane/runtime/vnet_tap.h) on this kernel
  // interface instead of an EAL device.
  std::string tap_interface;
  // MERGE traffic towards this port when it cannot take a merged packet
  // whole: false = linked (LIST, the original frames); true = merged and
  // cut back by software GSO (PortCapabilities::segment_merged_in_software).
  bool segment_merged_in_software = false;
};

struct RuntimeConfig {
  std::vector<std::string> eal_args;  // argv[1..] for rte_eal_init
  std::vector<PortSpec> ports;        // empty = all probed ports, paired
  uint32_t mbufs = 16383;
  uint16_t vxlan_port = 4789;
  uint32_t idle_sleep_us = 0;
  // Merge only segments with valid checksums (see config.proto).
  bool verify_checksums = true;
  // A worker whose poll loop makes no progress for this long is reported
  // stalled (health NOT_SERVING, no systemd watchdog pings).
  uint32_t worker_stall_ms = 500;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_RUNTIME_CONFIG_H_
