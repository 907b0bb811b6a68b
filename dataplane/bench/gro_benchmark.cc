// GRO engine benchmark: our engine vs DPDK rte_gro, context and burst mode,
// same pre-built packets, one core.  Prints a Markdown table.
//
//   bazel run //dataplane/bench:gro_benchmark             # full (~5 min)
//   bazel run //dataplane/bench:gro_benchmark -- --quick  # ~40 s
//   ... -- --workload=0 --flows=1024                    # one row
//   ... -- --reps=N --verbose --ours-only --reorder=0|5
//     (runs per cell, all samples to stderr, no rte_gro, one column)
//   ... -- --no-burst                       (context mode only)
//   ... -- --no-huge      (4 KiB pages even when hugepages are available)
//   ... -- --cold-mbufs   (never-reused mbufs: see Feed)
//   ... -- --verify       (ours verifies checksums, in software: no verdict)
// (.bazelrc already builds with -O2; -c opt is not needed.)
//
// Traffic: F concurrent flows, each a stream of equal-size segments (the
// last of a train may be short), interleaved at random; with reordering,
// 5% of segments swap places with their flow's next segment.  Context mode
// flushes everything that is held every max(64, 8F) packets (both engines,
// via their timeout-flush call with timeout 0), so each flow can merge about
// 8 segments (64 for one flow) and all F flows are in the table at once;
// every flow has at least 32 packets (4 windows).
// Our timed loop includes parsing; rte_gro is given l2/l3/l4_len and
// packet_type set outside the timed loop (it cannot parse).  Each burst's
// bytes are re-written just before it is timed (packets are cache-hot after
// RX); only the engine calls are timed (rdtsc per burst of 32).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_gro.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dataplane/bench/gro_floor.h"
#include "dataplane/bench/gro_harness.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/packet_builder.h"

namespace grod::gro {
namespace {

using testing::Bytes;
using testing::PacketSpec;

// kTcp4Ts: TCP over IPv4 with the timestamp option (Linux's default): a
// 66-byte header, past the template's first 64 bytes.
enum class Kind { kTcp4, kTcp6, kUdp4, kTcp4Ts };
struct Workload {
  const char* name;
  Kind kind;
  Mode mode;
  bool rte_gro;  // rte_gro supports it (TCP4, with options too)
};
const Workload kWorkloads[] = {
    {"TCP4 MERGE", Kind::kTcp4, Mode::kMerge, true},
    {"TCP4 LIST", Kind::kTcp4, Mode::kList, true},
    {"TCP6 MERGE", Kind::kTcp6, Mode::kMerge, false},
    {"UDP4 MERGE", Kind::kUdp4, Mode::kMerge, false},
    {"TCP4+TS MERGE", Kind::kTcp4Ts, Mode::kMerge, true},
};
constexpr size_t kPayload = 128;
using bench::Done;
using bench::Feed;
using bench::FlushEvery;
using bench::Fmt;
using bench::HugepagesAvailable;
using bench::kBurst;
using bench::kPoolMb;
using bench::Median;
using bench::Pool;
using bench::Result;
using bench::Sink;
using bench::TimedBursts;

std::vector<Bytes> MakeTraffic(Kind kind, uint32_t flows, uint32_t packets,
                               bool reorder, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<PacketSpec> spec(flows);
  for (uint32_t f = 0; f < flows; ++f) {
    PacketSpec& s = spec[f];
    s.src_ip = {10, uint8_t(f >> 16), uint8_t(f >> 8), uint8_t(f)};
    s.dst_ip = {10, 200, 0, 1};
    s.sport = uint16_t(1024 + f % 50000);
    s.dport = uint16_t(80 + f / 50000);
    s.seq = rng();
    s.payload = testing::Payload(kPayload, f);
    if (kind == Kind::kTcp6) {
      s.v6 = true;
      s.src_ip = {0xfd,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  uint8_t(f >> 16),
                  uint8_t(f >> 8),
                  uint8_t(f)};
      s.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    }
    if (kind == Kind::kUdp4) s.proto = IPPROTO_UDP;
    if (kind == Kind::kTcp4Ts) {
      // NOP, NOP, timestamps: equal within a flow, as in one TSO burst
      // (GRO merges only identical options).
      const uint32_t tsval = rng(), tsecr = rng();
      s.tcp_options = {1,
                       1,
                       8,
                       10,
                       uint8_t(tsval >> 24),
                       uint8_t(tsval >> 16),
                       uint8_t(tsval >> 8),
                       uint8_t(tsval),
                       uint8_t(tsecr >> 24),
                       uint8_t(tsecr >> 16),
                       uint8_t(tsecr >> 8),
                       uint8_t(tsecr)};
    }
  }
  // Flow of each slot: a random interleaving with equal shares.
  std::vector<uint32_t> order(packets);
  for (uint32_t i = 0; i < packets; ++i) order[i] = i % flows;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<Bytes> out(packets);
  std::vector<std::vector<uint32_t>> slots(flows);
  for (uint32_t i = 0; i < packets; ++i) slots[order[i]].push_back(i);
  for (uint32_t f = 0; f < flows; ++f) {
    std::vector<Bytes> seq;
    for (size_t k = 0; k < slots[f].size(); ++k) {
      seq.push_back(testing::Build(spec[f]));
      spec[f].seq += kPayload;
    }
    if (reorder) {
      for (size_t k = 0; k + 1 < seq.size(); ++k) {
        if (rng() % 100 < 5) std::swap(seq[k], seq[k + 1]);
      }
    }
    for (size_t k = 0; k < seq.size(); ++k) out[slots[f][k]] = seq[k];
  }
  return out;
}

// --verify: ours checks checksums (grod's default); the packets carry no
// NIC verdict, so in software.  rte_gro has no such check.
bool g_verify = false;

Result OursContext(const std::vector<Bytes>& frames, uint32_t flows, Mode mode,
                   bool cold) {
  Feed feed(frames, false, cold);
  ContextConfig cfg;
  cfg.verify_checksums = g_verify;
  cfg.max_flows = flows;
  cfg.max_held_packets = 16 * std::max(flows, 8u);
  auto ctx = Context::Create(cfg);
  Sink sink;
  rte_mbuf* buf[64];
  Output out{buf, 0, 64, &Sink::Drain, &sink};
  sink.out = &out;
  const uint32_t every = FlushEvery(flows);
  uint32_t since = 0;
  std::vector<uint64_t> cycles =
      TimedBursts(feed, frames.size(), sink, [&](rte_mbuf** pkts, uint16_t n) {
        const uint64_t now = rte_rdtsc();
        ctx->ProcessBurst(pkts, n, mode, now, &out);
        since += n;
        if (since >= every) {
          ctx->FlushTimedOut(now, 0, &out);
          since = 0;
        }
      });
  const uint64_t t0 = rte_rdtsc();
  ctx->FlushAll(&out, kFlushExplicit);
  cycles.push_back(rte_rdtsc() - t0);
  sink.Release();
  return Done(std::move(cycles), frames.size(), sink);
}

// The memory floor (gro_floor.h) in the same harness as OursContext.
Result FloorContext(const std::vector<Bytes>& frames, uint32_t flows,
                    bench::FloorEngine::Way way, bool cold) {
  Feed feed(frames, false, cold);
  bench::FloorEngine floor(flows, way);
  if (!floor.ok()) {
    fprintf(stderr, "floor: out of EAL memory\n");
    exit(1);
  }
  Sink sink;
  auto emit = [&sink](rte_mbuf* m) { sink.Add(&m, 1); };
  const uint32_t every = FlushEvery(flows);
  uint32_t since = 0;
  std::vector<uint64_t> cycles =
      TimedBursts(feed, frames.size(), sink, [&](rte_mbuf** pkts, uint16_t n) {
        floor.Burst(pkts, n, emit);
        since += n;
        if (since >= every) {
          floor.FlushAll(emit);
          since = 0;
        }
      });
  const uint64_t t0 = rte_rdtsc();
  floor.FlushAll(emit);
  cycles.push_back(rte_rdtsc() - t0);
  sink.Release();
  return Done(std::move(cycles), frames.size(), sink);
}

Result OursBurst(const std::vector<Bytes>& frames, Mode mode, bool cold) {
  Feed feed(frames, false, cold);
  Sink sink;
  ContextConfig cfg;
  cfg.max_flows = 64;
  cfg.max_held_packets = 256;
  std::vector<uint64_t> cycles =
      TimedBursts(feed, frames.size(), sink, [&](rte_mbuf** pkts, uint16_t n) {
        sink.Add(pkts, ReassembleBurst(pkts, n, mode, cfg));
      });
  return Done(std::move(cycles), frames.size(), sink);
}

Result RteContext(const std::vector<Bytes>& frames, uint32_t flows, bool cold) {
  Feed feed(frames, true, cold);
  Sink sink;
  sink.ours = false;
  rte_gro_param param{};
  param.gro_types = RTE_GRO_TCP_IPV4;
  param.max_flow_num = uint16_t(std::min(flows, 65535u));
  param.max_item_per_flow = flows == 1 ? 64 : 16;
  param.socket_id = uint16_t(rte_socket_id());
  void* ctx = rte_gro_ctx_create(&param);
  const uint32_t every = FlushEvery(flows);
  rte_mbuf* tmp[1024];
  auto flush = [&] {
    uint16_t k;
    while ((k = rte_gro_timeout_flush(ctx, 0, RTE_GRO_TCP_IPV4, tmp, 1024)) >
           0) {
      sink.Add(tmp, k);
    }
  };
  uint32_t since = 0;
  std::vector<uint64_t> cycles =
      TimedBursts(feed, frames.size(), sink, [&](rte_mbuf** pkts, uint16_t n) {
        // Returns the packets it did not take, first in the array.
        sink.Add(pkts, rte_gro_reassemble(pkts, n, ctx));
        since += n;
        if (since >= every) {
          flush();
          since = 0;
        }
      });
  const uint64_t t0 = rte_rdtsc();
  flush();
  cycles.push_back(rte_rdtsc() - t0);
  sink.Release();
  rte_gro_ctx_destroy(ctx);
  return Done(std::move(cycles), frames.size(), sink);
}

Result RteBurst(const std::vector<Bytes>& frames, bool cold) {
  Feed feed(frames, true, cold);
  Sink sink;
  sink.ours = false;
  rte_gro_param param{};
  param.gro_types = RTE_GRO_TCP_IPV4;
  param.max_flow_num = kBurst;
  param.max_item_per_flow = kBurst;
  std::vector<uint64_t> cycles =
      TimedBursts(feed, frames.size(), sink, [&](rte_mbuf** pkts, uint16_t n) {
        sink.Add(pkts, rte_gro_reassemble_burst(pkts, n, &param));
      });
  return Done(std::move(cycles), frames.size(), sink);
}

// rte_gro's context mode scans its flows linearly, so its packet count is
// capped to keep the run short; cycles/packet are per packet either way.
uint32_t RtePackets(uint32_t flows, uint32_t packets) {
  const uint64_t budget = (1ull << 31) / flows;  // ~flow-compare budget
  return uint32_t(
      std::min<uint64_t>(packets, std::max<uint64_t>(budget, flows)));
}

}  // namespace
}  // namespace grod::gro

int main(int argc, char** argv) {
  using namespace grod::gro;
  bool quick = false;
  int only_workload = -1;
  uint32_t only_flows = 0;
  int reps = 0;  // --reps=N: runs per cell (median); default 7, quick 5
  bool ours_only = false, verbose = false, no_burst = false, cold = false;
  bool floor = false;     // --floor: also the memory floor (TCP4 MERGE)
  int only_reorder = -1;  // --reorder=0|5: only that column
  for (int i = 1; i < argc; ++i) {
    quick |= strcmp(argv[i], "--quick") == 0;
    ours_only |= strcmp(argv[i], "--ours-only") == 0;
    no_burst |= strcmp(argv[i], "--no-burst") == 0;
    cold |= strcmp(argv[i], "--cold-mbufs") == 0;
    floor |= strcmp(argv[i], "--floor") == 0;
    g_verify |= strcmp(argv[i], "--verify") == 0;
    verbose |= strcmp(argv[i], "--verbose") == 0;
    if (strncmp(argv[i], "--workload=", 11) == 0) {
      only_workload = atoi(argv[i] + 11);
    }
    if (strncmp(argv[i], "--flows=", 8) == 0) only_flows = atoi(argv[i] + 8);
    if (strncmp(argv[i], "--reps=", 7) == 0) reps = atoi(argv[i] + 7);
    if (strncmp(argv[i], "--reorder=", 10) == 0) {
      only_reorder = atoi(argv[i] + 10);
    }
  }
  if (reps <= 0) reps = quick ? 5 : 7;
  std::string prefix = "--file-prefix=grobench" + std::to_string(getpid());
  // Memory as a deployment has it: hugepages when the machine has them
  // mounted and free (scripts/hugepages.sh), else 4 KiB pages, which every
  // machine has but which add TLB misses to both engines.  --no-huge
  // forces 4 KiB pages.
  bool force_small = false;
  for (int i = 1; i < argc; ++i) {
    force_small |= strcmp(argv[i], "--no-huge") == 0;
  }
  const bool huge = !force_small && HugepagesAvailable(kPoolMb);
  const std::string mem = std::to_string(kPoolMb);
  const char* eal[] = {"gro_benchmark",
                       huge ? "--huge-unlink" : "--no-huge",
                       "-m",
                       mem.c_str(),
                       "--no-pci",
                       "--no-telemetry",
                       "--no-shconf",
                       "--log-level=*:warning",
                       prefix.c_str(),
                       "-l",
                       "0"};
  if (rte_eal_init(sizeof(eal) / sizeof(eal[0]), const_cast<char**>(eal)) < 0 ||
      !RegisterDynfield() || Pool() == nullptr) {
    fprintf(stderr, "EAL init failed (%s): check free memory%s\n",
            huge ? "hugepages" : "4 KiB pages",
            huge ? ", or run with --no-huge" : "");
    return 1;
  }
  const double ghz = rte_get_tsc_hz() / 1e9;
  std::vector<uint32_t> flow_counts =
      quick ? std::vector<uint32_t>{1, 1024, 65536}
            : std::vector<uint32_t>{1, 16, 256, 1024, 16384, 65536};
  const uint32_t packets = quick ? 131072 : 262144;
  if (only_flows != 0) flow_counts = {only_flows};
  printf(
      "TSC %.2f GHz, %u packets/run, %zu-byte payloads, burst %u, median of "
      "%d runs, %s mbufs, memory on %s%s\n\n",
      ghz, packets, kPayload, kBurst, reps,
      cold ? "cold (--cold-mbufs: never reused)" : "recycled",
      huge          ? "hugepages"
      : force_small ? "4 KiB pages (--no-huge)"
                    : "4 KiB pages (no free hugepages: scripts/hugepages.sh)",
      g_verify ? ", ours verifying checksums in software (--verify)" : "");
  printf(
      "| workload | flows | reorder | ours ctx Mpps | ours ctx cyc/pkt | "
      "ours merge ratio | rte_gro ctx cyc/pkt | rte_gro merge ratio | "
      "ours/rte_gro ctx | ours burst cyc/pkt | rte_gro burst cyc/pkt | "
      "ours/rte_gro burst |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> floor_rows;
  double ours_one_flow = 0;  // cycles/packet, TCP4 MERGE, 1 flow, 0%
  for (const Workload& w : kWorkloads) {
    if (quick && (w.kind == Kind::kTcp6 || w.kind == Kind::kTcp4Ts)) continue;
    if (only_workload >= 0 && &w != &kWorkloads[only_workload]) continue;
    for (uint32_t flows : flow_counts) {
      if (only_flows != 0 && flows != only_flows) continue;
      for (bool reorder : {false, true}) {
        if (quick && reorder && flows != 1024) continue;
        if (only_reorder >= 0 && reorder != (only_reorder != 0)) continue;
        // At least 32 packets per flow: every flow spans >= 4 flush windows
        // of 8 packets, so each flow count measures flows that persist
        // (created once, then revived each window) as the small counts do.
        // (Cold mbufs are never reused: the pool caps them at 8 per flow,
        // one window -- every flow is created once per 8 packets there.)
        const uint32_t n = std::max(packets, (cold ? 8 : 32) * flows);
        const auto frames = MakeTraffic(w.kind, flows, n, reorder, 42);
        // Repetitions interleave the engines (the machine may be shared);
        // each cell is the per-burst median over the runs (see Median).
        // rte_gro's context mode at >= 16384 flows takes seconds per run:
        // at most 3 runs there.
        std::vector<Result> vo, vob, vrc, vrb;
        std::vector<Result> vfloor[3];  // by FloorEngine::Way
        const bool with_floor =
            floor && w.kind == Kind::kTcp4 && w.mode == Mode::kMerge;
        const std::vector<Bytes> sub(frames.begin(),
                                     frames.begin() + RtePackets(flows, n));
        for (int rep = 0; rep < reps; ++rep) {
          vo.push_back(OursContext(frames, flows, w.mode, cold));
          for (int way = 0; with_floor && way < 3; ++way) {
            vfloor[way].push_back(FloorContext(
                frames, flows, bench::FloorEngine::Way(way), cold));
          }
          if (w.rte_gro && !ours_only && (flows < 16384 || rep < 3)) {
            vrc.push_back(RteContext(sub, flows, cold));
          }
          if (no_burst) continue;
          vob.push_back(OursBurst(frames, w.mode, cold));
          if (w.rte_gro && !ours_only) vrb.push_back(RteBurst(frames, cold));
        }
        if (verbose) {
          fprintf(stderr, "%s %u flows %s:\n", w.name, flows,
                  reorder ? "5%" : "0%");
        }
        const Result ours = Median(vo, "ours ctx", n, verbose);
        const Result ob = Median(vob, "ours burst", n, verbose);
        const Result rc =
            Median(vrc, "rte_gro ctx", uint32_t(sub.size()), verbose);
        const Result rb = Median(vrb, "rte_gro burst", n, verbose);
        auto cell = [](const Result& r, const char* f, double v) {
          return r.valid ? Fmt(f, v) : std::string("n/a");
        };
        printf(
            "| %s | %u | %s | %.2f | %.1f | %.2f | %s | %s | %s | %.1f | %s "
            "| %s |\n",
            w.name, flows, reorder ? "5%" : "0%",
            ghz * 1e3 / ours.cycles_per_pkt, ours.cycles_per_pkt, ours.ratio,
            cell(rc, "%.1f", rc.cycles_per_pkt).c_str(),
            cell(rc, "%.2f", rc.ratio).c_str(),
            cell(rc, "%.1fx", rc.cycles_per_pkt / ours.cycles_per_pkt).c_str(),
            ob.cycles_per_pkt, cell(rb, "%.1f", rb.cycles_per_pkt).c_str(),
            cell(rb, "%.1fx", rb.cycles_per_pkt / ob.cycles_per_pkt).c_str());
        fflush(stdout);
        if (flows == 1 && !reorder && w.kind == Kind::kTcp4 &&
            w.mode == Mode::kMerge) {
          ours_one_flow = ours.cycles_per_pkt;
        }
        if (with_floor) {
          const char* names[3] = {"floor arrival", "floor at flush",
                                  "floor lagged"};
          double way_cycles[3], best = 1e18, floor_ratio = 0;
          for (int way = 0; way < 3; ++way) {
            const Result r = Median(vfloor[way], names[way], n, verbose);
            way_cycles[way] = r.cycles_per_pkt;
            if (r.cycles_per_pkt < best) {
              best = r.cycles_per_pkt;
              floor_ratio = r.ratio;
            }
          }
          char row[256];
          snprintf(
              row, sizeof(row),
              "| %u | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %.2fx | "
              "%s |",
              flows, reorder ? "5%" : "0%", way_cycles[0], way_cycles[1],
              way_cycles[2], best, floor_ratio, ours.cycles_per_pkt,
              ours.cycles_per_pkt / best,
              ours_one_flow > 0 ? Fmt("%.2fx", best / ours_one_flow).c_str()
                                : "n/a");
          floor_rows.push_back(row);
        }
      }
    }
  }
  if (!floor_rows.empty()) {
    // See gro_floor.h: the least any engine must spend on these packets.
    printf(
        "\nMemory floor, TCP4 MERGE, context mode (cycles/packet; floor = "
        "the cheapest way, see gro_floor.h)\n\n"
        "| flows | reorder | chain on arrival | chain at flush | at flush, "
        "one burst late | floor | floor merge ratio | ours | ours/floor | "
        "floor / ours at 1 flow "
        "|\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (const std::string& r : floor_rows) printf("%s\n", r.c_str());
  }
  return 0;
}
