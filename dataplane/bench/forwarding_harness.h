// One core forwarding pre-built packets through the real GroStage and Egress
// classes, the way Worker::Run does, with the cost per packet measured.
#ifndef GROD_DATAPLANE_BENCH_FORWARDING_HARNESS_H_
#define GROD_DATAPLANE_BENCH_FORWARDING_HARNESS_H_

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <vector>

#include "common/dataplane_types.h"
#include "dataplane/bench/traffic.h"
#include "dataplane/tenant/route_table.h"

namespace grod::dataplane::bench {

// A run is timed in chunks of this many RX bursts: on a shared machine a
// chunk hit by preemption is an outlier the per-run median ignores.
constexpr int kChunkBursts = 32;  // 1024 packets per timed chunk

// kMergeSoftwareGso: MERGE with the TX port configured
// merged_without_tso: SEGMENT_IN_SOFTWARE, so packets are merged and egress's
// software GSO cuts them back (what MERGE did on net_null before 1232a0d).
// kMergeNoTso: MERGE towards the same port as configured by default (linked).
// The first four are in the order of the old binary's (6a27eac) columns.
enum class FwdMode {
  kList,
  kMergeSoftwareGso,
  kBypass,
  kMergeTso,
  kMergeNoTso
};
constexpr FwdMode kFwdModes[] = {FwdMode::kList, FwdMode::kMergeSoftwareGso,
                                 FwdMode::kBypass, FwdMode::kMergeTso,
                                 FwdMode::kMergeNoTso};
constexpr int kNumFwdModes = 5;

struct FwdRun {
  double cycles_per_pkt = 0;   // TSC cycles
  double segs_per_output = 0;  // GRO outputs (merged packets / lists)
};

// TSC cycles to nanoseconds.
double TscToNs(double cycles);

// RX: a ring-backed port holding the packets of one run. TX: net_null
// (no-rx=1), which frees what it is given, so freeing mbufs (including
// GSO's header and indirect mbufs) is part of the measured cost. net_null
// advertises no TSO/USO, so MERGE is linked like LIST unless the mode
// configures the port to segment merged packets in software.
class ForwardingHarness {
 public:
  // `batch`: the most packets one Run is given.
  explicit ForwardingHarness(uint32_t batch);
  ~ForwardingHarness();

  // Forwards `frames` once in `mode` (with the tenant's route hints in
  // `routes`, if any). Dies if a packet is lost or an mbuf leaks.
  FwdRun Run(const Frames& frames, FwdMode mode,
             const RouteTable* routes = nullptr);

  const PortCapabilities& sink_caps() const { return sink_caps_; }

 private:
  const uint32_t batch_;
  rte_mempool* pool_ = nullptr;
  rte_mempool* indirect_ = nullptr;
  rte_ring* rx_ring_ = nullptr;
  rte_ring* tx_ring_ = nullptr;
  uint16_t rx_port_ = 0;
  uint16_t sink_ = 0;
  PortCapabilities sink_caps_;
  uint16_t peer_of_[RTE_MAX_ETHPORTS] = {};
  std::vector<rte_mbuf*> frame_mbufs_;
  std::vector<double> chunk_cycles_;
};

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_FORWARDING_HARNESS_H_
