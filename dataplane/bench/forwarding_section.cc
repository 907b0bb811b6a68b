#include "dataplane/bench/forwarding_section.h"

#include <rte_cycles.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "dataplane/bench/forwarding_harness.h"
#include "dataplane/bench/statistics.h"
#include "dataplane/bench/traffic.h"

namespace grod::dataplane::bench {
namespace {

struct Config {
  Proto proto;
  uint32_t flows;
  Frames frames;
  std::vector<double> cycles[kNumFwdModes];
  std::vector<double> ratio_list_merge, ratio_list_bypass, ratio_list_linked;
  double segs[kNumFwdModes] = {};
};

// What software GSO spends on its full L4 checksum (rte_raw_cksum over the
// L4 header and payload of every segment), on the same frames, L1-warm.
void PrintChecksumCost(const Frames& all) {
  const Frames f(all.begin(), all.begin() + std::min<size_t>(256, all.size()));
  std::vector<double> per;
  uint32_t sum = 0;
  for (int r = 0; r < 21; ++r) {
    const uint64_t t0 = rte_rdtsc_precise();
    for (const auto& fr : f)
      sum += rte_raw_cksum(fr.data() + 34, fr.size() - 34);
    per.push_back(double(rte_rdtsc_precise() - t0) / f.size());
  }
  if (sum == 42) std::printf(" ");  // keep the sums
  std::printf(
      "\nFor reference: rte_raw_cksum over one %zu-byte TCP segment (what "
      "software GSO computes per output segment): %.0f ns (median of 21 "
      "passes over 256 TCP4 frames, data in L2).\n",
      f[0].size() - 34, TscToNs(Median(per)));
}

}  // namespace

void ForwardingSection(int reps, uint32_t batch, uint32_t train,
                       const std::vector<uint32_t>& flow_counts) {
  ForwardingHarness h(batch);
  std::vector<Config> configs;
  for (Proto proto : {Proto::kTcp4, Proto::kUdp4}) {
    for (uint32_t flows : flow_counts) {
      Config c;
      c.proto = proto;
      c.flows = flows;
      c.frames = MakeTrains(proto, flows, batch, train, 42 + flows);
      configs.push_back(std::move(c));
    }
  }
  // Warm-up (page faults, caches), not recorded.
  for (Config& c : configs) {
    for (FwdMode m : kFwdModes) h.Run(c.frames, m);
  }
  for (int rep = 0; rep < reps; ++rep) {
    for (Config& c : configs) {
      double cyc[kNumFwdModes];
      // Rotate the order so no mode always runs first or after another.
      for (int j = 0; j < kNumFwdModes; ++j) {
        const int mi = (j + rep) % kNumFwdModes;
        FwdRun r = h.Run(c.frames, kFwdModes[mi]);
        cyc[mi] = r.cycles_per_pkt;
        c.cycles[mi].push_back(r.cycles_per_pkt);
        c.segs[mi] = r.segs_per_output;
      }
      c.ratio_list_merge.push_back(cyc[1] / cyc[0]);
      c.ratio_list_bypass.push_back(cyc[2] / cyc[0]);
      c.ratio_list_linked.push_back(cyc[4] / cyc[0]);
    }
  }

  std::printf(
      "\n## Forwarding cost per packet (one core, %d interleaved repetitions "
      "of %u packets; each run timed in %d-packet chunks, median chunk; "
      "median over repetitions)\n\n",
      reps, batch, kChunkBursts * kBurst);
  std::printf(
      "TX port: net_null (no TSO/USO advertised: tcp_tso=%d udp_tso=%d). "
      "MERGE + software GSO: the port configured merged_without_tso: "
      "SEGMENT_IN_SOFTWARE, so MERGE merges (verifying checksums) and "
      "egress's software GSO cuts the packets back (the old MERGE+GSO "
      "column). MERGE, no-TSO port (linked): the default configuration, MERGE "
      "linked like LIST (no merge, no checksum verification, no software "
      "GSO). Trains of %u segments per flow; flush policy PER_BURST; RX "
      "bursts of %u.\n\n",
      h.sink_caps().tcp_tso, h.sink_caps().udp_tso, train, kBurst);
  std::printf(
      "| traffic | flows | LIST+unlink Mpps (ns/pkt) | MERGE + software GSO "
      "Mpps (ns/pkt) | no GRO (BYPASS) Mpps (ns/pkt) | MERGE, TSO port* Mpps "
      "(ns/pkt) | MERGE, no-TSO port (linked) Mpps (ns/pkt) | LIST / "
      "MERGE+GSO | LIST / no GRO | LIST / MERGE no-TSO (linked) | segs/output "
      "LIST, MERGE |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      "\n");
  for (const Config& c : configs) {
    std::string cells;
    for (int mi = 0; mi < kNumFwdModes; ++mi) {
      const double ns = TscToNs(Median(c.cycles[mi]));
      cells += absl::StrFormat(" %.2f (%.0f) |", 1e3 / ns, ns);
    }
    std::printf("| %s %zuB | %u |%s %.2fx | %.2fx | %.2fx | %.1f, %.1f |\n",
                ProtoName(c.proto),
                c.proto == Proto::kTcp4 ? kTcpPayload : kUdpPayload, c.flows,
                cells.c_str(), Median(c.ratio_list_merge),
                Median(c.ratio_list_bypass), Median(c.ratio_list_linked),
                c.segs[0], c.segs[1]);
  }
  PrintChecksumCost(configs[0].frames);
  std::printf(
      "\n*MERGE, TSO port: the same run with the TX port pretending to have "
      "TSO/USO, so each merged chain is handed to net_null whole: the "
      "forwarding cost with a TSO NIC, not counting the NIC.\n"
      "Ratios are medians of per-repetition ratios (modes of one repetition "
      "run back to back). segs/output MERGE is the MERGE + software GSO "
      "column's. Spread (p10..p90 of ns/pkt, LIST | MERGE+GSO | MERGE no-TSO "
      "(linked)):");
  for (const Config& c : configs) {
    std::printf(" %s/%u: %.0f..%.0f | %.0f..%.0f | %.0f..%.0f;",
                ProtoName(c.proto), c.flows,
                TscToNs(Percentile(c.cycles[0], 10)),
                TscToNs(Percentile(c.cycles[0], 90)),
                TscToNs(Percentile(c.cycles[1], 10)),
                TscToNs(Percentile(c.cycles[1], 90)),
                TscToNs(Percentile(c.cycles[4], 10)),
                TscToNs(Percentile(c.cycles[4], 90)));
  }
  std::printf("\n");
}

}  // namespace grod::dataplane::bench
