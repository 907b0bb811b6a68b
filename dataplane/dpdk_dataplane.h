// grod's real data plane: DPDK ports and worker lcores behind the pure
// grod::DataPlane interface the control plane uses.
#ifndef GROD_DATAPLANE_DPDK_DATAPLANE_H_
#define GROD_DATAPLANE_DPDK_DATAPLANE_H_

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataplane.h"
#include "dataplane/control/tenant_manager.h"
#include "dataplane/runtime/guest_offloads.h"
#include "dataplane/runtime/liveness_monitor.h"
#include "dataplane/runtime/runtime_config.h"
#include "dataplane/runtime/vnet_tap.h"
#include "dataplane/runtime/worker.h"

namespace grod::dataplane {

class DpdkDataPlane : public grod::DataPlane {
 public:
  // EAL must be initialised. Creates the mbuf pool, starts every port and
  // launches one worker per EAL worker lcore. Workers accept configuration
  // at once but forward nothing until StartForwarding(), so tenants and
  // hints restored at start apply to the very first packet.
  static absl::StatusOr<std::unique_ptr<DpdkDataPlane>> Start(
      const RuntimeConfig& config);
  ~DpdkDataPlane() override;

  void StartForwarding();

  // Stops workers (they flush what they hold), then ports; frees the pool.
  // Idempotent.
  void Stop();

  // Mbufs currently taken from the pools (for leak checks).
  unsigned MbufsInUse() const;

  // Liveness: false while a worker lcore is stalled (stopped polling for
  // RuntimeConfig::worker_stall_ms). `on_change` runs on the monitor thread
  // after a worker stalled or recovered (empty: none); clear it before
  // whatever it touches goes away.
  bool WorkersAlive() const;
  void SetLivenessCallback(std::function<void()> on_change);
  // Tests: the worker on `lcore` stops polling for `duration`, as a stuck
  // lcore would (no heartbeat, no RCU quiescent state).
  absl::Status StallWorkerForTest(unsigned lcore, absl::Duration duration);

  // Started, and every worker lcore polls.
  bool Ready() const override { return ready_.load() && WorkersAlive(); }
  absl::Status ReadyStatus() const override;
  DataPlaneInfo Info() const override;
  std::vector<PortInfo> Ports() const override;
  MbufBudget Mbufs() const override { return mbufs_; }
  absl::Status UpsertTenant(const TenantSpec& spec) override;
  absl::Status RemoveTenant(const std::string& name) override;
  absl::Status AddRouteHints(const std::string& tenant,
                             const std::vector<RouteHint>& hints) override;
  absl::Status RemoveRouteHints(const std::string& tenant,
                                const std::vector<IpPrefix>& prefixes) override;
  absl::Status SetUnmatchedTenant(const std::string& tenant) override;
  StatsSnapshot Stats() const override;

 private:
  struct Port {
    uint16_t id;
    uint16_t peer;
    PortCapabilities caps;
    uint32_t tso_max_bytes = 65535;  // PortSpec (configured, not probed)
    uint16_t mtu = 0;                // PortSpec: 0 = the device's default
    uint16_t rx_descriptors = 1024;  // PortSpec: per queue
    uint16_t tx_descriptors = 1024;
    std::string name;           // PortSpec::device
    std::string tap_interface;  // non-empty: a tap port, not an ethdev
    VnetTap* tap = nullptr;     // once started (owned by taps_)
    bool segment_merged_in_software = false;  // PortSpec (configured)
  };

  DpdkDataPlane() = default;
  static PortInfo DescribeTap(const Port& p);
  absl::Status ResolvePorts(const RuntimeConfig& config);
  absl::Status StartPortsAndWorkers(const RuntimeConfig& config);
  // The steps of StartPortsAndWorkers: the mbuf pools (after checking the
  // reserve fits), every port, then the RCU variable, the TenantManager and
  // the workers on their lcores.
  absl::Status CreatePools(const RuntimeConfig& config);
  absl::Status StartPorts();
  absl::Status StartWorkers(const RuntimeConfig& config);

  std::atomic<bool> ready_{false};
  MbufBudget mbufs_;  // set once in CreatePools
  rte_mempool* pool_ = nullptr;
  rte_mempool* indirect_pool_ = nullptr;  // software GSO payload references
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<TenantManager> tenants_;
  PortCapabilities caps_of_[RTE_MAX_ETHPORTS] = {};
  // What the guests on vhost-user ports negotiated (egress reads it).
  GuestOffloadTable guests_;
  std::vector<Port> ports_;
  std::vector<std::unique_ptr<VnetTap>> taps_;
  std::vector<unsigned> worker_lcores_;
  uint16_t peer_of_[RTE_MAX_ETHPORTS] = {};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<LivenessMonitor> liveness_;
  bool launched_ = false;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_DPDK_DATAPLANE_H_
