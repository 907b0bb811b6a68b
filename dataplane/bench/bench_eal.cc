#include "dataplane/bench/bench_eal.h"

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/eal.h"

namespace grod::dataplane::bench {

void InitBenchEal(const std::string& lcores) {
  const bool map = lcores.find('@') != std::string::npos;
  // A file prefix of its own: the benchmark can run next to grod or tests.
  Check(InitEal({map ? "--lcores" : "-l", lcores, "--no-huge", "-m", "2048",
                 "--no-pci", "--no-shconf",
                 absl::StrCat("--file-prefix=bench", getpid()),
                 "--no-telemetry", "--log-level=*:warning"}),
        "EAL");
  if (!gro::RegisterDynfield()) Die("cannot register the GRO list field");
}

uint16_t ProbeVdev(const std::string& name, const std::string& args) {
  const std::string devargs = args.empty() ? name : name + "," + args;
  if (int rc = rte_dev_probe(devargs.c_str()); rc != 0) {
    Die(absl::StrCat("rte_dev_probe(", devargs, "): ", rte_strerror(-rc)));
  }
  uint16_t id;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
    Die("no port " + name);
  }
  return id;
}

std::string PortName(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, name);
  return name;
}

}  // namespace grod::dataplane::bench
