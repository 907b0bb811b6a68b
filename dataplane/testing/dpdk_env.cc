#include "dataplane/testing/dpdk_env.h"

#include <rte_eal.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <string>

namespace grod::gro::testing {

bool InitDpdk() {
  static const bool ok = [] {
    std::string prefix = "--file-prefix=gro" + std::to_string(getpid());
    const char* argv[] = {"gro_test",
                          "--no-huge",
                          "-m",
                          "512",
                          "--no-pci",
                          "--no-telemetry",
                          "--no-shconf",
                          "--log-level=*:warning",
                          prefix.c_str(),
                          "-l",
                          "0"};
    int argc = sizeof(argv) / sizeof(argv[0]);
    if (rte_eal_init(argc, const_cast<char**>(argv)) < 0) return false;
    return RegisterDynfield();
  }();
  return ok;
}

rte_mempool* TestPool() {
  static rte_mempool* p = rte_pktmbuf_pool_create(
      "gro_test_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return p;
}

rte_mempool* IndirectPool() {
  static rte_mempool* p =
      rte_pktmbuf_pool_create("gro_test_ind", 16383, 256, 0, 0, SOCKET_ID_ANY);
  return p;
}

}  // namespace grod::gro::testing
