// Section "config": how long a config change takes until every worker lcore
// uses it, with the real DpdkDataPlane and its worker idle or under traffic.
#ifndef GROD_DATAPLANE_BENCH_CONFIG_SECTION_H_
#define GROD_DATAPLANE_BENCH_CONFIG_SECTION_H_

#include <cstdint>
#include <string>

namespace grod::dataplane::bench {

// Times `changes` UpsertTenant / AddRouteHints calls per kind and worker
// state (the calls return once every worker acknowledged the change or an
// RCU grace period passed). `pcap` is the traffic replayed in the "under
// traffic" state; `big_hints` is the size of the tenant whose one added hint
// is timed last.
void ConfigSection(int changes, const std::string& pcap, uint32_t big_hints);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_CONFIG_SECTION_H_
