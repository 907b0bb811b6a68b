// The GRO benchmark's harness (gro_benchmark.cc): the mbuf pool, where each
// burst's mbufs come from, timing the engine calls alone, collecting and
// freeing output untimed, and the per-burst median over repeated runs.
#ifndef GROD_DATAPLANE_BENCH_GRO_HARNESS_H_
#define GROD_DATAPLANE_BENCH_GRO_HARNESS_H_

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/packet_builder.h"

namespace grod::gro::bench {

using testing::Bytes;

inline constexpr uint16_t kBurst = 32;

inline rte_mempool* Pool() {
  static rte_mempool* p = rte_pktmbuf_pool_create(
      "bench", 1100000, 256, 0, RTE_PKTMBUF_HEADROOM + 256, rte_socket_id());
  return p;
}

// EAL memory for the benchmark: the mbuf pool (~1.1 M mbufs of 640 B)
// plus rte_gro's tables.
inline constexpr uint32_t kPoolMb = 2048;

// A hugetlbfs mount and enough free 2 MiB pages for `mb` megabytes.
inline bool HugepagesAvailable(uint32_t mb) {
  std::ifstream mounts("/proc/mounts");
  std::string line;
  bool mounted = false;
  while (std::getline(mounts, line)) {
    mounted |= line.find(" hugetlbfs ") != std::string::npos;
  }
  std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  uint64_t free_pages = 0;
  f >> free_pages;
  return mounted && free_pages * 2 >= mb;
}

// Where each burst's mbufs come from.  Both ways write the burst's bytes
// just before it is timed, as the NIC (DDIO) and the PMD would: packet data
// and the mbuf's first line are cache-hot after RX.  The mbuf's second
// line (`next`, the LIST link, tx_offload), which RX does not touch, is
//  * recycled (default): as in a forwarding loop, each burst is allocated
//    from the pool just before it is timed and every output is freed back
//    right after its burst (untimed).  The per-lcore mempool cache hands
//    out recently freed mbufs, whose second line the free just touched --
//    what a PMD's RX ring refilled from the same cache sees.
//  * cold (--cold-mbufs): every packet has its own mbuf, allocated up
//    front (262144+ distinct mbufs, never reused): the second line is in
//    DRAM for every packet -- the worst case, for both engines.
class Feed {
 public:
  Feed(const std::vector<Bytes>& frames, bool rte_meta, bool cold)
      : frames_(frames), rte_meta_(rte_meta), cold_(cold) {
    if (!cold_) return;
    all_.resize(frames.size());
    if (rte_pktmbuf_alloc_bulk(Pool(), all_.data(), all_.size()) != 0) {
      fprintf(stderr, "mbuf pool exhausted\n");
      exit(1);
    }
    for (size_t i = 0; i < all_.size(); ++i) Fill(all_[i], i);
  }
  // The mbufs of packets [i, i + n), bytes freshly written.
  rte_mbuf** Burst(size_t i, uint16_t n) {
    if (cold_) {
      for (uint16_t k = 0; k < n; ++k) {
        memcpy(rte_pktmbuf_mtod(all_[i + k], void*), frames_[i + k].data(),
               frames_[i + k].size());
      }
      return &all_[i];
    }
    if (rte_pktmbuf_alloc_bulk(Pool(), buf_, n) != 0) {
      fprintf(stderr, "mbuf pool exhausted\n");
      exit(1);
    }
    for (uint16_t k = 0; k < n; ++k) Fill(buf_[k], i + k);
    return buf_;
  }

 private:
  void Fill(rte_mbuf* m, size_t i) {
    memcpy(rte_pktmbuf_append(m, frames_[i].size()), frames_[i].data(),
           frames_[i].size());
    if (!rte_meta_) return;
    // rte_gro cannot parse: it is given what a PMD / the app would set.
    ParsedPacket p;
    Parse(m, {}, &p);
    m->l2_len = p.l3_off;
    m->l3_len = p.l4_off - p.l3_off;
    m->l4_len = p.payload_off - p.l4_off;
    m->packet_type =
        RTE_PTYPE_L2_ETHER | (p.is_v6 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4) |
        (p.l4_proto == IPPROTO_TCP ? RTE_PTYPE_L4_TCP : RTE_PTYPE_L4_UDP);
  }

  const std::vector<Bytes>& frames_;
  const bool rte_meta_, cold_;
  std::vector<rte_mbuf*> all_;
  rte_mbuf* buf_[kBurst];
};

struct Result {
  std::vector<uint64_t> bursts;  // cycles of each timed burst (+ final flush)
  double cycles_per_pkt = 0;
  double ratio = 0;  // packets in / packets out
  bool valid = false;
};

// Outputs are counted and freed after each burst, outside the timed
// region (ours: FreePacket, which also frees LIST members).
struct Sink {
  std::vector<rte_mbuf*> pending;
  uint64_t count = 0;
  bool ours = true;
  Output* out = nullptr;  // ours: the engine's output buffer
  static void Drain(Output* o, void* arg) {
    auto* s = static_cast<Sink*>(arg);
    s->Add(o->pkts, o->count);
    o->count = 0;
  }
  void Add(rte_mbuf* const* p, uint32_t n) {
    pending.insert(pending.end(), p, p + n);
    count += n;
  }
  void Release() {
    if (out != nullptr) Drain(out, this);
    for (rte_mbuf* m : pending) ours ? FreePacket(m) : rte_pktmbuf_free(m);
    pending.clear();
  }
};

inline uint32_t FlushEvery(uint32_t flows) { return std::max(64u, 8 * flows); }

// Runs `body(pkts, n)` per burst with only `body` timed, then frees what
// came out; returns the cycles of each burst.
template <typename F>
std::vector<uint64_t> TimedBursts(Feed& feed, size_t packets, Sink& sink,
                                  F body) {
  std::vector<uint64_t> busy;
  busy.reserve(packets / kBurst + 2);
  for (size_t i = 0; i < packets; i += kBurst) {
    const uint16_t n = uint16_t(std::min<size_t>(kBurst, packets - i));
    rte_mbuf** pkts = feed.Burst(i, n);
    const uint64_t t0 = rte_rdtsc();
    body(pkts, n);
    busy.push_back(rte_rdtsc() - t0);
    sink.Release();
  }
  return busy;
}

inline uint64_t Sum(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (uint64_t x : v) s += x;
  return s;
}

inline Result Done(std::vector<uint64_t> cycles, size_t packets,
                   const Sink& sink) {
  return Result{std::move(cycles), double(Sum(cycles)) / packets,
                double(packets) / sink.count, true};
}

// Every run does the same work burst by burst (same packets, same calls),
// so preemption by other processes on a shared machine shows up as a few
// runs' bursts taking far longer.  The result: each burst's median over
// the runs, summed, per packet (invalid if no runs).  --verbose also lists
// each run's own total.
inline Result Median(const std::vector<Result>& v, const char* what,
                     uint32_t pkts, bool verbose) {
  if (v.empty()) return Result{};
  const size_t nb = v[0].bursts.size();
  uint64_t total = 0;
  std::vector<uint64_t> c(v.size());
  for (size_t b = 0; b < nb; ++b) {
    for (size_t r = 0; r < v.size(); ++r) c[r] = v[r].bursts[b];
    std::nth_element(c.begin(), c.begin() + c.size() / 2, c.end());
    total += c[c.size() / 2];
  }
  Result m = v[0];
  m.bursts.clear();
  m.cycles_per_pkt = double(total) / pkts;
  if (verbose) {
    std::vector<double> runs;
    for (const Result& r : v) runs.push_back(r.cycles_per_pkt);
    std::sort(runs.begin(), runs.end());
    fprintf(stderr, "  %-14s median/burst %.1f; runs:", what, m.cycles_per_pkt);
    for (double x : runs) fprintf(stderr, " %.1f", x);
    fprintf(stderr, "\n");
  }
  return m;
}

inline std::string Fmt(const char* f, double v) {
  char b[64];
  snprintf(b, sizeof(b), f, v);
  return b;
}

}  // namespace grod::gro::bench

#endif  // GROD_DATAPLANE_BENCH_GRO_HARNESS_H_
