#include "dataplane/runtime/port.h"

#include <rte_ethdev.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/runtime/port_kind.h"

namespace grod::dataplane {
namespace {

absl::Status DpdkError(const std::string& what, uint16_t port_id, int rc) {
  return absl::InternalError(
      absl::StrCat(what, " failed on port ", port_id, ": ", rte_strerror(-rc)));
}

// What egress may hand the port: the TX offloads it enabled and the
// limits its PMD states (tx_desc_lim), with its MTU.
PortCapabilities CapabilitiesOf(uint64_t tx_offloads,
                                const rte_eth_dev_info& info, uint16_t mtu) {
  PortCapabilities caps;
  caps.tcp_tso = tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_TSO;
  caps.udp_tso = tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_TSO;
  caps.ipv4_checksum = tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  caps.tcp_checksum = tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  caps.udp_checksum = tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  caps.multi_segment_tx = tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  caps.vxlan_tso = tx_offloads & RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO;
  caps.outer_ipv4_checksum = tx_offloads & RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM;
  caps.outer_udp_checksum = tx_offloads & RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM;
  caps.mtu = mtu;
  // 0 would mean "no limit stated" (ethdev's default is UINT16_MAX).
  const rte_eth_desc_lim& lim = info.tx_desc_lim;
  caps.tx_max_segments = lim.nb_seg_max ? lim.nb_seg_max : UINT16_MAX;
  caps.tx_max_mtu_segments =
      lim.nb_mtu_seg_max ? lim.nb_mtu_seg_max : UINT16_MAX;
  return caps;
}

// An AF_XDP port creates its XDP program and socket (and registers its
// UMEM) only when its RX queue is set up; the PMD logs the detail, the
// operator needs the likely causes and the fallback.
absl::Status QueueSetupError(const std::string& what, uint16_t port_id, int rc,
                             const rte_eth_dev_info& info) {
  absl::Status error = DpdkError(what, port_id, rc);
  if (info.driver_name == nullptr ||
      std::string(info.driver_name) != "net_af_xdp") {
    return error;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      error.message(),
      ": the AF_XDP socket could not be created. AF_XDP needs a kernel with "
      "XDP sockets (5.4 or later), CAP_NET_ADMIN + CAP_BPF (or CAP_SYS_ADMIN), "
      "locked memory for its UMEM (ulimit -l, or CAP_IPC_LOCK) and an "
      "interface queue that exists (start_queue/queue_count); the PMD's log "
      "line above names the step that failed. Fallback without XDP: use "
      "--vdev=net_af_packet0,iface=<netdev> instead of net_af_xdp (see "
      "docs/OPERATIONS.md, \"Running on AF_XDP\")"));
}

}  // namespace

absl::StatusOr<uint16_t> PortByName(const std::string& device) {
  uint16_t port_id;
  if (rte_eth_dev_get_port_by_name(device.c_str(), &port_id) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no DPDK port named '", device,
        "': add it to eal_args (--vdev=... or -a <pci address>) and make sure "
        "it is bound to a DPDK driver"));
  }
  return port_id;
}

absl::StatusOr<PortCapabilities> StartPort(uint16_t port_id,
                                           const PortQueues& queues,
                                           rte_mempool* pool) {
  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) return DpdkError("rte_eth_dev_info_get", port_id, rc);
  if (queues.rx_queues > info.max_rx_queues ||
      queues.tx_queues > info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "port %u supports %u RX / %u TX queues but %u / %u are needed (one "
        "per worker lcore): use fewer worker lcores",
        port_id, info.max_rx_queues, info.max_tx_queues, queues.rx_queues,
        queues.tx_queues));
  }

  rte_eth_conf conf{};
  // Take every TX offload egress may use; what the port lacks is done in
  // software (see the egress path), so a missing one is not an error.
  const uint64_t wanted_tx =
      RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_TCP_TSO |
      RTE_ETH_TX_OFFLOAD_UDP_TSO | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
      RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
      RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO | RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM |
      RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM;
  conf.txmode.offloads = wanted_tx & info.tx_offload_capa;
  if (queues.mtu != 0) {
    if (queues.mtu < info.min_mtu || queues.mtu > info.max_mtu) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "port %u: mtu %u is outside what the device takes (%u to %u): "
          "set ports[].mtu within that range, or 0 for the default",
          port_id, queues.mtu, info.min_mtu, info.max_mtu));
    }
    conf.rxmode.mtu = queues.mtu;  // 0 = ethdev's default, 1500
  }
  if (queues.rx_queues > 1) {
    // RSS keeps each flow on one queue, hence on one worker lcore.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
        info.flow_type_rss_offloads;
  }

  rc =
      rte_eth_dev_configure(port_id, queues.rx_queues, queues.tx_queues, &conf);
  if (rc != 0) return DpdkError("rte_eth_dev_configure", port_id, rc);

  uint16_t rxd = queues.rx_descriptors, txd = queues.tx_descriptors;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
  if (rc != 0)
    return DpdkError("rte_eth_dev_adjust_nb_rx_tx_desc", port_id, rc);

  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < queues.rx_queues; ++q) {
    rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket, nullptr, pool);
    if (rc != 0) {
      return QueueSetupError("rte_eth_rx_queue_setup", port_id, rc, info);
    }
  }
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < queues.tx_queues; ++q) {
    rc = rte_eth_tx_queue_setup(port_id, q, txd, socket, &txconf);
    if (rc != 0) return DpdkError("rte_eth_tx_queue_setup", port_id, rc);
  }
  rc = rte_eth_dev_start(port_id);
  if (rc != 0) return DpdkError("rte_eth_dev_start", port_id, rc);
  rte_eth_promiscuous_enable(port_id);  // a forwarder sees every frame
  uint16_t mtu = 0;
  rc = rte_eth_dev_get_mtu(port_id, &mtu);
  if (rc != 0) return DpdkError("rte_eth_dev_get_mtu", port_id, rc);
  return CapabilitiesOf(conf.txmode.offloads, info, mtu);
}

void StopPort(uint16_t port_id) {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

PortInfo DescribePort(uint16_t port_id) {
  PortInfo p;
  p.port_id = port_id;
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port_id, name) == 0) p.name = name;
  rte_eth_dev_info info;
  if (rte_eth_dev_info_get(port_id, &info) == 0) {
    p.driver = info.driver_name ? info.driver_name : "";
  }
  p.kind = PortKindOf(p.driver);
  p.consumer = ConsumerOf(port_id, p.kind);
  rte_ether_addr mac;
  if (rte_eth_macaddr_get(port_id, &mac) == 0) {
    char buf[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(buf, sizeof(buf), &mac);
    p.mac_address = buf;
  }
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id, &link) == 0) {
    p.link_up = link.link_status == RTE_ETH_LINK_UP;
    p.link_speed_mbps =
        link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
  }
  uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(port_id, &mtu) == 0) p.mtu = mtu;
  return p;
}

}  // namespace grod::dataplane
