// Section "hints": how long one AddRouteHints call with 100 000 IPv4 / IPv6
// prefixes takes, and how many fit when not all of them do.
#ifndef GROD_DATAPLANE_BENCH_HINT_INSTALL_SECTION_H_
#define GROD_DATAPLANE_BENCH_HINT_INSTALL_SECTION_H_

#include <cstdint>
#include <string>

namespace grod::dataplane::bench {

// Installs `n` hints of each family on a fresh tenant, `reps` times, with
// the worker idle and under the traffic in `pcap`.
void HintInstallSection(int reps, uint32_t n, const std::string& pcap);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_HINT_INSTALL_SECTION_H_
