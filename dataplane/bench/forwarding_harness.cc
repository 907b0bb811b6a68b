#include "dataplane/bench/forwarding_harness.h"

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/bench/bench_eal.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/stage_rig.h"
#include "dataplane/bench/statistics.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/runtime/port.h"
#include "dataplane/runtime/worker_command.h"
#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane::bench {

double TscToNs(double cycles) { return cycles * 1e9 / rte_get_tsc_hz(); }

ForwardingHarness::ForwardingHarness(uint32_t batch) : batch_(batch) {
  static int instance = 0;  // DPDK object names must be unique
  const std::string tag = absl::StrCat("bfwd", instance++);
  pool_ = rte_pktmbuf_pool_create((tag + "_pkts").c_str(), batch + 8191, 256, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  indirect_ = rte_pktmbuf_pool_create((tag + "_ind").c_str(), 8191, 256, 0, 0,
                                      rte_socket_id());
  rx_ring_ = rte_ring_create((tag + "_rx").c_str(), rte_align32pow2(batch + 1),
                             SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  tx_ring_ = rte_ring_create((tag + "_tx").c_str(), 1024, SOCKET_ID_ANY,
                             RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!pool_ || !indirect_ || !rx_ring_ || !tx_ring_) Die("harness memory");
  const int rx = rte_eth_from_rings(tag.c_str(), &rx_ring_, 1, &tx_ring_, 1,
                                    SOCKET_ID_ANY);
  if (rx < 0) Die("rte_eth_from_rings");
  rx_port_ = rx;
  sink_ = ProbeVdev("net_null_" + tag, "no-rx=1");
  PortQueues q;
  absl::StatusOr<PortCapabilities> c = StartPort(rx_port_, q, pool_);
  Check(c.status(), "start rx port");
  c = StartPort(sink_, q, pool_);
  Check(c.status(), "start net_null");
  sink_caps_ = *c;
  if (sink_caps_.tcp_tso || sink_caps_.udp_tso) {
    Die("net_null advertises TSO: MERGE would not be linked as LIST");
  }
  for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) peer_of_[p] = sink_;
  frame_mbufs_.resize(batch);
}

ForwardingHarness::~ForwardingHarness() {
  StopPort(rx_port_);
  StopPort(sink_);
  rte_ring_free(rx_ring_);
  rte_ring_free(tx_ring_);
  rte_mempool_free(indirect_);
  rte_mempool_free(pool_);
}

FwdRun ForwardingHarness::Run(const Frames& frames, FwdMode mode,
                              const RouteTable* routes) {
  const uint32_t n = frames.size();
  // Untimed: fresh mbufs (MERGE rewrites headers, so none is reused).
  if (rte_pktmbuf_alloc_bulk(pool_, frame_mbufs_.data(), n) != 0) {
    Die("input pool empty: a previous run leaked");
  }
  for (uint32_t i = 0; i < n; ++i) {
    rte_mbuf* m = frame_mbufs_[i];
    memcpy(rte_pktmbuf_append(m, frames[i].size()), frames[i].data(),
           frames[i].size());
    m->port = rx_port_;
  }
  if (rte_ring_enqueue_bulk(rx_ring_,
                            reinterpret_cast<void**>(frame_mbufs_.data()), n,
                            nullptr) != n) {
    Die("rx ring too small");
  }

  PortCapabilities caps[RTE_MAX_ETHPORTS] = {};
  caps[sink_] = sink_caps_;
  if (mode == FwdMode::kMergeTso) {
    // What a TSO/USO-capable NIC would be handed: one chain per merge
    // (TSO rewrites IPv4 headers per segment: IPv4 checksum offload too).
    caps[sink_].tcp_tso = caps[sink_].udp_tso = true;
    caps[sink_].ipv4_checksum = true;
    caps[sink_].multi_segment_tx = true;
  }
  if (mode == FwdMode::kMergeSoftwareGso) {
    // ports[].merged_without_tso: SEGMENT_IN_SOFTWARE on the net_null port.
    caps[sink_].segment_merged_in_software = true;
  }
  StageRig rig =
      MakeStageRig(rx_port_, Egress::Ports{peer_of_, caps, pool_, indirect_});
  auto& counters = rig.counters;
  auto& egress = rig.egress;
  auto& stage = rig.stage;
  auto& snap = rig.snap;
  TenantRuntime& t = rig.tenant();
  t.routes = routes;
  t.flush_kind = FlushKind::kPerBurst;
  t.default_mode = mode == FwdMode::kList     ? GroMode::kList
                   : mode == FwdMode::kBypass ? GroMode::kBypass
                                              : GroMode::kMerge;

  // Timed: Worker::Run's loop body for one RX queue, minus the command
  // ring poll and the RCU quiescent-state store, in chunks of kChunkBursts
  // RX bursts.
  rte_mbuf* pkts[kBurst];
  PortLcoreCounters& rxc = counters[rx_port_];
  chunk_cycles_.clear();
  int bursts = 0;
  const uint64_t t0 = rte_rdtsc_precise();
  uint64_t chunk_start = t0;
  for (;;) {
    const uint64_t now = rte_rdtsc();
    if (bursts == kChunkBursts) {
      chunk_cycles_.push_back(double(now - chunk_start) /
                              (kChunkBursts * kBurst));
      chunk_start = now;
      bursts = 0;
    }
    ++bursts;
    stage->BeginIteration(*snap);
    const uint16_t k = rte_eth_rx_burst(rx_port_, 0, pkts, kBurst);
    if (k == 0) break;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < k; ++i) {
      bytes += pkts[i]->pkt_len;
      pkts[i]->port = rx_port_;
    }
    rxc.rx_packets += k;
    rxc.rx_bytes += bytes;
    stage->ProcessBurst(*snap, pkts, k, now);
    stage->FlushByPolicy(*snap, now, k == kBurst);
    egress->FlushAll();
  }
  stage->FlushAll(gro::kFlushExplicit);
  egress->FlushAll();
  const uint64_t t1 = rte_rdtsc_precise();

  const PortLcoreCounters& tx = counters[sink_];
  TenantCounters tc;
  stage->AddCounters(0, &tc);
  const uint64_t want_tx = mode == FwdMode::kMergeTso ? tc.packets_out : n;
  if (rxc.rx_packets != n || tx.tx_packets != want_tx || tx.tx_dropped) {
    Die(absl::StrFormat("mode %d: rx %u tx %u (want %u) dropped %u", int(mode),
                        rxc.rx_packets, tx.tx_packets, want_tx, tx.tx_dropped));
  }
  // Towards a port without TSO MERGE links instead of merging (software
  // GSO would cut the merged packet back into the same frames).
  if (mode == FwdMode::kMergeNoTso &&
      (tc.merged_packets_out != 0 || tc.merge_as_list_packets == 0)) {
    Die("MERGE towards net_null (no TSO) was merged, not linked");
  }
  // With SEGMENT_IN_SOFTWARE the column must measure merge + software GSO,
  // not linking: merged output, none linked, segments cut by egress.
  if (mode == FwdMode::kMergeSoftwareGso &&
      (tc.merged_packets_out == 0 || tc.merge_as_list_packets != 0 ||
       tx.gso_segments == 0)) {
    Die(absl::StrFormat(
        "MERGE towards net_null with SEGMENT_IN_SOFTWARE: merged %u, linked "
        "%u, software GSO segments %u (want merged > 0, linked 0, GSO > 0)",
        tc.merged_packets_out, tc.merge_as_list_packets, tx.gso_segments));
  }
  stage.reset();
  egress.reset();
  if (rte_mempool_in_use_count(pool_) || rte_mempool_in_use_count(indirect_))
    Die("mbuf leak in the forwarding path");
  FwdRun r;
  r.cycles_per_pkt =
      chunk_cycles_.size() >= 4 ? Median(chunk_cycles_) : double(t1 - t0) / n;
  r.segs_per_output =
      tc.packets_out ? double(tc.packets_in) / tc.packets_out : 0;
  return r;
}

}  // namespace grod::dataplane::bench
