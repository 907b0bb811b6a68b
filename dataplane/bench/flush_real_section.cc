#include "dataplane/bench/flush_real_section.h"

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/dataplane_types.h"
#include "dataplane/bench/bench_eal.h"
#include "dataplane/bench/data_plane_scenarios.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/flush_policies.h"
#include "dataplane/bench/statistics.h"
#include "dataplane/bench/traffic.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/traffic/sample_traffic.h"

namespace grod::dataplane::bench {
namespace {

TenantCounters TenantStats(const StatsSnapshot& s, const std::string& name) {
  for (const TenantCounters& t : s.tenants) {
    if (t.tenant == name) return t;
  }
  return {};
}

// This thread injects packets into the RX ring of a ring-backed port that
// the worker polls, and collects what the worker sends from the TX ring.
class FlushHarness {
 public:
  FlushHarness() {
    rx_ = rte_ring_create("bfl_rx", 4096, SOCKET_ID_ANY,
                          RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ = rte_ring_create("bfl_tx", 65536, SOCKET_ID_ANY,
                          RING_F_SP_ENQ | RING_F_SC_DEQ);
    pool_ = rte_pktmbuf_pool_create("bfl_pool", 32767, 256, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (!rx_ || !tx_ || !pool_) Die("flush harness memory");
    const int id = rte_eth_from_rings("bfl", &rx_, 1, &tx_, 1, SOCKET_ID_ANY);
    if (id < 0) Die("rte_eth_from_rings");
    port_ = id;
    dp_ = StartDataPlane({{PortName(port_), "", 512, 512}}, 0);
    for (uint32_t f = 0; f < 1024; ++f) {
      templates_.push_back(TcpFrame(FlowOf(f), 1, kTcpPayload));
    }
  }
  ~FlushHarness() {
    dp_->Stop();
    Drain();
    if (dp_->MbufsInUse() != 0) Die("data plane leaked mbufs");
    dp_.reset();
    rte_ring_free(rx_);
    rte_ring_free(tx_);
    if (rte_mempool_in_use_count(pool_) != 0) Die("injected mbufs leaked");
    rte_mempool_free(pool_);
  }

  FlushResult Run(const Policy& policy, const Load& load, double seconds) {
    TenantSpec t = TenantOn("flush", port_, policy.mode);
    t.flush.kind = policy.kind;
    t.flush.timeout_ns = policy.timeout_ns;
    Check(dp_->UpsertTenant(t), "set policy");
    std::vector<uint32_t> seq(load.flows, 1);
    const StatsSnapshot before = dp_->Stats();
    FlushResult r;
    r.lat_us.reserve(size_t(seconds * 8e6));
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t start = rte_rdtsc();
    const uint64_t end = start + uint64_t(seconds * hz);
    const uint64_t interval = uint64_t(double(load.interval_ns) * hz / 1e9);
    uint64_t next_send = start;
    uint64_t injected = 0, collected = 0;
    uint32_t next_flow = 0;
    rte_mbuf* burst[kBurst];
    for (uint64_t now = start; now < end; now = rte_rdtsc()) {
      collected += Collect(&r.lat_us);
      uint16_t k = 0;
      if (load.interval_ns) {
        if (now >= next_send) {
          k = 1;
          next_send += interval;
        }
      } else if (rte_ring_count(rx_) < 2 * kBurst) {
        k = kBurst;
      }
      if (k == 0) continue;
      if (rte_pktmbuf_alloc_bulk(pool_, burst, k) != 0) continue;
      for (uint16_t i = 0; i < k; ++i) {
        const uint32_t f = next_flow;
        next_flow = (next_flow + 1) % load.flows;
        const std::vector<uint8_t>& tmpl = templates_[f];
        uint8_t* d = reinterpret_cast<uint8_t*>(
            rte_pktmbuf_append(burst[i], tmpl.size()));
        memcpy(d, tmpl.data(), tmpl.size());
        const uint32_t s = seq[f];
        seq[f] += kTcpPayload;
        d[38] = s >> 24, d[39] = s >> 16, d[40] = s >> 8, d[41] = s;
      }
      const uint64_t stamp = rte_rdtsc();
      for (uint16_t i = 0; i < k; ++i) {
        memcpy(rte_pktmbuf_mtod_offset(burst[i], uint8_t*, kTcp4PayloadOffset),
               &stamp, sizeof(stamp));
      }
      const unsigned q = rte_ring_enqueue_burst(
          rx_, reinterpret_cast<void**>(burst), k, nullptr);
      for (unsigned i = q; i < k; ++i) rte_pktmbuf_free(burst[i]);
      injected += q;
    }
    // Everything injected comes back (GSO restores MSS segments); held
    // packets leave within the policy's timeout.
    const uint64_t deadline = rte_rdtsc() + hz;
    while (collected < injected && rte_rdtsc() < deadline) {
      collected += Collect(&r.lat_us);
    }
    if (collected != injected) {
      Die(absl::StrCat(policy.name, "/", load.name, ": injected ", injected,
                       ", got back ", collected));
    }
    const StatsSnapshot after = dp_->Stats();
    const TenantCounters a = TenantStats(after, "flush"),
                         b = TenantStats(before, "flush");
    const uint64_t in = a.packets_in - b.packets_in,
                   out = a.packets_out - b.packets_out;
    r.segs_per_output = out ? double(in) / out : 0;
    r.mpps = injected / seconds / 1e6;
    const double busy = after.workers[0].busy_cycles -
                        before.workers[0].busy_cycles,
                 total = after.workers[0].total_cycles -
                         before.workers[0].total_cycles;
    r.busy = total > 0 ? busy / total : 0;
    return r;
  }

 private:
  // Takes what the worker transmitted off the TX ring and records each
  // packet's latency from the TSC stamped into its payload.
  uint64_t Collect(std::vector<double>* lat) {
    void* objs[64];
    const unsigned n = rte_ring_dequeue_burst(tx_, objs, 64, nullptr);
    if (n == 0) return 0;
    const uint64_t now = rte_rdtsc();
    const double us_per_tsc = 1e6 / rte_get_tsc_hz();
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = static_cast<rte_mbuf*>(objs[i]);
      uint64_t stamp;
      const void* p =
          rte_pktmbuf_read(m, kTcp4PayloadOffset, sizeof(stamp), &stamp);
      if (p != &stamp) memcpy(&stamp, p, sizeof(stamp));
      lat->push_back(double(now - stamp) * us_per_tsc);
      rte_pktmbuf_free(m);
    }
    return n;
  }
  void Drain() {
    void* m = nullptr;
    while (rte_ring_dequeue(tx_, &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
    while (rte_ring_dequeue(rx_, &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
  }

  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  rte_mempool* pool_ = nullptr;
  uint16_t port_ = 0;
  std::unique_ptr<DpdkDataPlane> dp_;
  Frames templates_;
};

}  // namespace

void FlushRealSection(double seconds, int reps) {
  FlushHarness h;
  std::printf(
      "\n## Flush policies with the real worker lcore (two threads: "
      "meaningful only with two otherwise idle CPUs; TCP4 "
      "%zuB, MERGE (linked: the TX port has no TSO) unless LIST; %.2f s per "
      "cell, median of "
      "%d)\n\n",
      kTcpPayload, seconds, reps);
  std::printf(
      "Latency: TSC written into each packet's payload right before it is "
      "enqueued on the RX ring, read when the segment is taken off the TX "
      "ring (includes the rings and the collecting thread: see the BYPASS "
      "row). Full load: a 32-packet burst is enqueued whenever fewer than 64 "
      "packets wait, so the worker sees back-to-back full bursts with at "
      "most ~3 bursts queued. Low-rate flows are round robin.\n\n");
  std::printf(
      "| load | policy | segs/output | latency p50 us | p99 us | added p50 "
      "us (vs BYPASS) | achieved Mpps | worker busy |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Load& load : kLoads) {
    double ref_p50 = 0;
    for (const Policy& p : kPolicies) {
      std::vector<double> segs, p50, p99, mpps, busy;
      for (int rep = 0; rep < reps; ++rep) {
        FlushResult r = h.Run(p, load, seconds);
        segs.push_back(r.segs_per_output);
        p50.push_back(Median(r.lat_us));
        p99.push_back(Percentile(r.lat_us, 99));
        mpps.push_back(r.mpps);
        busy.push_back(r.busy);
      }
      if (p.mode == GroMode::kBypass) ref_p50 = Median(p50);
      std::printf("| %s | %s | %.1f | %.1f | %.1f | %+.1f | %.2f | %.0f%% |\n",
                  load.name, p.name, Median(segs), Median(p50), Median(p99),
                  Median(p50) - ref_p50, Median(mpps), 100 * Median(busy));
    }
  }
}

}  // namespace grod::dataplane::bench
