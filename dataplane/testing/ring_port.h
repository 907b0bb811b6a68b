// A DPDK port made of two rte_rings (rte_eth_from_rings), for in-process
// data-plane tests: the test enqueues packets the port "receives" and
// dequeues what the data plane transmitted on it.
#ifndef GROD_DATAPLANE_TESTING_RING_PORT_H_
#define GROD_DATAPLANE_TESTING_RING_PORT_H_

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace grod::dataplane::testing {

// Initialises EAL once for the test process: no hugepages, no PCI, unique
// file prefix, no telemetry socket, main lcore + `workers` worker lcores
// (mapped onto the CPUs this process may use).
void InitTestEal(int workers = 1);

class RingPort {
 public:
  // Creates the rings (`queues` RX/TX pairs), the port and a pool for
  // Inject().
  explicit RingPort(const std::string& name, int queues = 1);
  ~RingPort();  // frees what is left in the rings; the port is closed by
                // the data plane's Stop()

  uint16_t port_id() const { return port_id_; }
  // The EAL device name, as configs refer to it.
  const std::string& name() const { return device_; }

  // Copies frames into mbufs and queues them on RX queue `queue` (as RSS
  // would); waits while the ring is full. Returns the number queued.
  size_t Inject(const std::vector<std::vector<uint8_t>>& frames, int queue = 0);
  // Frames injected so far, on all queues (what the data plane should
  // receive: testing::WaitUntilSettled).
  uint64_t injected() const { return injected_; }

  // Everything transmitted so far, as bytes (mbufs are freed).
  std::vector<std::vector<uint8_t>> Collect();
  // Everything transmitted so far, as the mbufs (the caller frees them).
  std::vector<rte_mbuf*> CollectMbufs();
  // Collects until `count` frames arrived or `timeout_ms` passed.
  std::vector<std::vector<uint8_t>> CollectAtLeast(size_t count,
                                                   int timeout_ms = 5000);

  // Mbufs of the injection pool still out (0 once everything came back).
  unsigned InjectPoolInUse() const;

 private:
  std::string name_;
  std::string device_;
  std::vector<rte_ring*> rx_;
  std::vector<rte_ring*> tx_;
  rte_mempool* pool_ = nullptr;
  uint16_t port_id_ = 0;
  std::atomic<uint64_t> injected_{0};  // Inject() may run on two threads
};

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_RING_PORT_H_
