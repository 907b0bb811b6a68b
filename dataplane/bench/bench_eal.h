// The benchmark's DPDK environment: the EAL without hugepages or PCI
// devices, and virtual ports created at run time by the sections.
#ifndef GROD_DATAPLANE_BENCH_BENCH_EAL_H_
#define GROD_DATAPLANE_BENCH_BENCH_EAL_H_

#include <cstdint>
#include <string>

namespace grod::dataplane::bench {

// Initialises the EAL on `lcores` (an -l list such as "0-1", or an --lcores
// map such as "0@1,1@0" when it contains '@') and registers the GRO list
// field. Dies on failure.
void InitBenchEal(const std::string& lcores);

// Creates a virtual device at run time and returns its port id.
uint16_t ProbeVdev(const std::string& name, const std::string& args);

// The ethdev name of `port` (what a PortSpec refers to it by).
std::string PortName(uint16_t port);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_BENCH_EAL_H_
