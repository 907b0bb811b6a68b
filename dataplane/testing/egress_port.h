// A ring-backed port started as grod starts its ports, forwarding to
// itself, with the two pools software GSO takes segments from: what tests
// of the egress path (and of GroStage over it) stand on.
#ifndef GROD_DATAPLANE_TESTING_EGRESS_PORT_H_
#define GROD_DATAPLANE_TESTING_EGRESS_PORT_H_

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <memory>
#include <string>

#include "common/dataplane_types.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/testing/ring_port.h"

namespace grod::dataplane::testing {

class EgressPort {
 public:
  // Initialises EAL if needed; `name` must be unique in the process.
  // Check ok() (gtest: ASSERT_TRUE(port.ok()) << port.error()).
  explicit EgressPort(const std::string& name);
  // Collects what is left, stops the port and frees the pools.
  ~EgressPort();
  EgressPort(const EgressPort&) = delete;
  EgressPort& operator=(const EgressPort&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  RingPort& ring() { return *ring_; }
  uint16_t id() const { return id_; }
  rte_mempool* pool() const { return pool_; }
  // The port's capabilities as probed; tests may pretend others.
  PortCapabilities& caps() { return caps_[id_]; }
  Egress::Ports ports() const {
    return Egress::Ports{peer_of_, caps_, pool_, indirect_};
  }
  // Mbufs of either pool still out (0 once every mbuf came back).
  unsigned InUse() const;

 private:
  std::string error_;
  std::unique_ptr<RingPort> ring_;
  uint16_t id_ = 0;
  rte_mempool* pool_ = nullptr;
  rte_mempool* indirect_ = nullptr;
  uint16_t peer_of_[RTE_MAX_ETHPORTS] = {};
  PortCapabilities caps_[RTE_MAX_ETHPORTS] = {};
};

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_EGRESS_PORT_H_
