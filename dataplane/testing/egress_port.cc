#include "dataplane/testing/egress_port.h"

#include "dataplane/runtime/port.h"

namespace grod::dataplane::testing {

EgressPort::EgressPort(const std::string& name) {
  InitTestEal();
  ring_ = std::make_unique<RingPort>(name + "_ring");
  id_ = ring_->port_id();
  // GSO header mbufs (and the RX queue setup the ring PMD ignores), and
  // the indirect mbufs that reference payload.
  pool_ = rte_pktmbuf_pool_create((name + "_pkts").c_str(), 8191, 0, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  indirect_ = rte_pktmbuf_pool_create((name + "_ind").c_str(), 8191, 0, 0, 0,
                                      SOCKET_ID_ANY);
  if (pool_ == nullptr || indirect_ == nullptr) {
    error_ = "cannot create the test pools (EAL memory)";
    return;
  }
  absl::StatusOr<PortCapabilities> caps =
      StartPort(id_, PortQueues{1, 1, 256, 256}, pool_);
  if (!caps.ok()) {
    error_ = std::string(caps.status().message());
    return;
  }
  caps_[id_] = *caps;
  peer_of_[id_] = id_;
}

EgressPort::~EgressPort() {
  if (ring_) {
    ring_->Collect();
    if (ok()) StopPort(id_);
  }
  rte_mempool_free(pool_);
  rte_mempool_free(indirect_);
}

unsigned EgressPort::InUse() const {
  return (pool_ ? rte_mempool_in_use_count(pool_) : 0) +
         (indirect_ ? rte_mempool_in_use_count(indirect_) : 0);
}

}  // namespace grod::dataplane::testing
