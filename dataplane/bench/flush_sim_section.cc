#include "dataplane/bench/flush_sim_section.h"

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/dataplane_types.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/flush_policies.h"
#include "dataplane/bench/stage_rig.h"
#include "dataplane/bench/statistics.h"
#include "dataplane/bench/traffic.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/runtime/port.h"
#include "dataplane/runtime/worker_command.h"
#include "dataplane/tenant/config_snapshot.h"
#include "dataplane/traffic/sample_traffic.h"

namespace grod::dataplane::bench {
namespace {

uint64_t ThreadCpuNs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// The flush-policy trade-off on one thread with a virtual clock: the real
// GroStage and Egress (TX into a ring-backed port that is read back), the
// clock advanced by the CPU time each loop iteration really took
// (CLOCK_THREAD_CPUTIME_ID, so time this thread spends descheduled by other
// processes is not counted) and, when idle, by 1 us per empty poll.
class FlushSim {
 public:
  FlushSim() {
    pool_ = rte_pktmbuf_pool_create("bfs_pkts", 65535, 256, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    indirect_ =
        rte_pktmbuf_pool_create("bfs_ind", 16383, 256, 0, 0, rte_socket_id());
    rx_ = rte_ring_create("bfs_rx", 64, SOCKET_ID_ANY,
                          RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ = rte_ring_create("bfs_tx", 65536, SOCKET_ID_ANY,
                          RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!pool_ || !indirect_ || !rx_ || !tx_) Die("flush sim memory");
    const int id = rte_eth_from_rings("bfs", &rx_, 1, &tx_, 1, SOCKET_ID_ANY);
    if (id < 0) Die("rte_eth_from_rings");
    port_ = id;
    Check(StartPort(port_, PortQueues{}, pool_).status(), "start ring port");
    for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) peer_of_[p] = port_;
    for (uint32_t f = 0; f < 1024; ++f) {
      templates_.push_back(TcpFrame(FlowOf(f), 1, kTcpPayload));
    }
    // Packets are timed when Egress hands them to the port, at the virtual
    // time of that moment within the loop iteration.
    tx_cb_ = rte_eth_add_tx_callback(port_, 0, &FlushSim::OnTx, &tx_clock_);
    if (tx_cb_ == nullptr) Die("rte_eth_add_tx_callback");
  }
  ~FlushSim() {
    // The port id is reused by the next port created: unhook first. (The
    // callback's small allocation is left to the EAL, as DPDK requires.)
    rte_eth_remove_tx_callback(port_, 0, tx_cb_);
    StopPort(port_);
    rte_ring_free(rx_);
    rte_ring_free(tx_);
    rte_mempool_free(indirect_);
    rte_mempool_free(pool_);
  }

  struct TxClock {
    uint64_t vt0 = 0;   // virtual TSC at the start of the iteration
    uint64_t cpu0 = 0;  // thread CPU ns at the start of the iteration
    double tsc_per_ns = 0;
    double us_per_tsc = 0;
    std::vector<double>* lat = nullptr;
  };
  static uint16_t OnTx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n,
                       void* arg) {
    TxClock* c = static_cast<TxClock*>(arg);
    if (c->lat == nullptr) return n;
    const uint64_t now =
        c->vt0 + uint64_t(double(ThreadCpuNs() - c->cpu0) * c->tsc_per_ns);
    for (uint16_t i = 0; i < n; ++i) {
      uint64_t stamp;
      const void* p =
          rte_pktmbuf_read(pkts[i], kTcp4PayloadOffset, sizeof(stamp), &stamp);
      if (p != &stamp) memcpy(&stamp, p, sizeof(stamp));
      c->lat->push_back(double(now - stamp) * c->us_per_tsc);
    }
    return n;
  }

  FlushResult Run(const Policy& policy, const Load& load, uint32_t packets) {
    const uint64_t hz = rte_get_tsc_hz();
    auto ns_to_tsc = [&](double ns) { return uint64_t(ns * hz / 1e9); };
    PortCapabilities caps[RTE_MAX_ETHPORTS] = {};
    StageRig rig =
        MakeStageRig(port_, Egress::Ports{peer_of_, caps, pool_, indirect_});
    auto& egress = rig.egress;
    auto& stage = rig.stage;
    auto& snap = rig.snap;
    TenantRuntime& t = rig.tenant();
    t.default_mode = policy.mode;
    t.flush_kind = policy.kind;
    t.timeout_tsc = ns_to_tsc(policy.timeout_ns);

    FlushResult r;
    r.lat_us.reserve(packets);
    std::vector<uint32_t> seq(load.flows, 1);
    const uint64_t base = uint64_t(1) << 40;  // virtual TSC
    const uint64_t interval = ns_to_tsc(load.interval_ns);
    const uint64_t idle_step = ns_to_tsc(1000);
    uint64_t vt = base, busy_tsc = 0;
    uint32_t next = 0, collected = 0;
    rte_mbuf* burst[kBurst];
    tx_clock_.tsc_per_ns = hz / 1e9;
    tx_clock_.us_per_tsc = 1e6 / hz;
    tx_clock_.lat = &r.lat_us;
    while (collected < packets) {
      uint16_t n = 0;
      while (n < kBurst && next < packets &&
             (interval == 0 || base + next * interval <= vt)) {
        // Low rate: stamped with its arrival time; full load: with the time
        // it is polled (queueing before RX is not grod's).
        const uint64_t stamp = interval ? base + next * interval : vt;
        const uint32_t f = next % load.flows;
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (m == nullptr) Die("flush sim pool empty");
        const std::vector<uint8_t>& tmpl = templates_[f];
        uint8_t* d =
            reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, tmpl.size()));
        memcpy(d, tmpl.data(), tmpl.size());
        const uint32_t sq = seq[f];
        seq[f] += kTcpPayload;
        d[38] = sq >> 24, d[39] = sq >> 16, d[40] = sq >> 8, d[41] = sq;
        memcpy(d + kTcp4PayloadOffset, &stamp, sizeof(stamp));
        m->port = port_;
        burst[n++] = m;
        ++next;
      }
      const uint64_t c0 = ThreadCpuNs();
      tx_clock_.vt0 = vt;
      tx_clock_.cpu0 = c0;
      stage->BeginIteration(*snap);
      if (n) stage->ProcessBurst(*snap, burst, n, vt);
      stage->FlushByPolicy(*snap, vt, n == kBurst);
      egress->FlushAll();
      const uint64_t cost = ns_to_tsc(double(ThreadCpuNs() - c0));
      if (n) busy_tsc += cost;
      vt += n ? cost : std::max(cost, idle_step);
      void* objs[256];
      unsigned k;
      while ((k = rte_ring_dequeue_burst(tx_, objs, 256, nullptr)) != 0) {
        rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(objs), k);
        collected += k;
      }
      if (next >= packets && n == 0 && collected < packets &&
          vt - base > (uint64_t(packets) * interval + 10 * hz)) {
        Die(absl::StrCat(policy.name, "/", load.name, ": only ", collected,
                         " of ", packets, " came back"));
      }
    }
    tx_clock_.lat = nullptr;
    TenantCounters tc;
    stage->AddCounters(0, &tc);
    r.segs_per_output =
        tc.packets_out ? double(tc.packets_in) / tc.packets_out : 0;
    r.mpps = packets / (double(vt - base) / hz) / 1e6;
    r.busy = double(busy_tsc) / double(vt - base);
    stage.reset();
    egress.reset();
    if (rte_mempool_in_use_count(pool_) || rte_mempool_in_use_count(indirect_))
      Die("flush sim leaked mbufs");
    return r;
  }

 private:
  rte_mempool* pool_ = nullptr;
  rte_mempool* indirect_ = nullptr;
  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  uint16_t port_ = 0;
  uint16_t peer_of_[RTE_MAX_ETHPORTS] = {};
  Frames templates_;
  TxClock tx_clock_;
  const rte_eth_rxtx_callback* tx_cb_ = nullptr;
};

}  // namespace

void FlushSimSection(uint32_t low_packets, uint32_t full_packets, int reps) {
  FlushSim sim;
  std::printf(
      "\n## Flush policies: aggregation vs added latency (TCP4 %zuB; MERGE "
      "(linked: the TX port has no TSO) unless LIST; one thread, virtual "
      "clock; median of %d "
      "runs of %u (low rate) / %u (full load) packets)\n\n",
      kTcpPayload, reps, low_packets, full_packets);
  std::printf(
      "The real GroStage + Egress run Worker::Run's loop body on one thread; "
      "the clock is virtual: each loop iteration advances it by the CPU time "
      "the iteration really used (thread CPU clock: time stolen by other "
      "processes does not count), an empty poll by 1 us. Low rate: packet i "
      "arrives at i x 10 us (flows round robin), latency = TX time - arrival "
      "time. Full load: every poll returns a full burst of 32 (busy: offered "
      "load above what the worker can do), latency = TX time - time the "
      "packet was polled (queueing before RX is not counted). TX time = the "
      "virtual time at which Egress hands the packet (or its GSO segment) to "
      "the port (rte_eth_tx_burst callback). segs/output = input packets per "
      "GRO output.\n\n");
  std::printf(
      "| load | policy | segs/output | latency p50 us | p99 us | max us | "
      "throughput Mpps (virtual) |\n|---|---|---:|---:|---:|---:|---:|\n");
  for (const Load& load : kLoads) {
    for (const Policy& p : kPolicies) {
      std::vector<double> segs, p50, p99, mx, mpps;
      for (int rep = 0; rep < reps; ++rep) {
        FlushResult r =
            sim.Run(p, load, load.interval_ns ? low_packets : full_packets);
        segs.push_back(r.segs_per_output);
        p50.push_back(Median(r.lat_us));
        p99.push_back(Percentile(r.lat_us, 99));
        mx.push_back(Max(r.lat_us));
        mpps.push_back(r.mpps);
      }
      std::printf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.2f |\n", load.name,
                  p.name, Median(segs), Median(p50), Median(p99), Median(mx),
                  Median(mpps));
    }
  }
}

}  // namespace grod::dataplane::bench
