// Forwarding-path benchmark (issue #4). Prints Markdown tables.
//
//   bazel run -c opt //dataplane/bench:forwarding_benchmark -- --quick  # ~1 min
//   bazel run -c opt //dataplane/bench:forwarding_benchmark             # ~3 min
//   ... -- --sections=forwarding --reps=31                              # one part
//
// Sections:
//  forwarding  LIST + unlink vs MERGE + software GSO vs BYPASS, per packet,
//              on one core. The benchmark thread drives the real GroStage and
//              Egress classes through a copy of Worker::Run's loop body (RX
//              burst from a ring-backed port, ProcessBurst, FlushByPolicy,
//              Egress::FlushAll), transmitting into net_null (no-rx=1), which
//              frees what it is given. Mbufs are built before the timed region.
//  config      Time for UpsertTenant / AddRouteHints to return, i.e. until
//              every worker lcore acknowledged the change or passed an RCU
//              grace period, with the real DpdkDataPlane and its worker
//              polling (idle, idle with idle_sleep_us, under traffic).
//  hints       One AddRouteHints call with 100 000 IPv4 / IPv6 prefixes.
//  flush       Flush policies: merge ratio and per-packet latency (timestamp
//              written into the payload at injection, read at TX collection)
//              at a low packet rate and at full load, with the real worker.
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ip.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/dataplane_types.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/runtime/port.h"
#include "dataplane/tenant/config_snapshot.h"
#include "dataplane/tenant/route_table.h"
#include "dataplane/tenant/worker_command.h"
#include "grod/sample_traffic.h"

ABSL_FLAG(bool, quick, false, "fewer repetitions and changes (~1 min)");
ABSL_FLAG(bool, smoke, false,
          "toy sizes, for the test suite: checks only that nothing fails");
ABSL_FLAG(std::string, sections,
          "forwarding,lookup,config,hints,flush,integrity",
          "comma-separated: forwarding, lookup, config, hints, flush, "
          "integrity, "
          "flush_real (flush policies with the real worker thread; needs two "
          "idle CPUs)");
ABSL_FLAG(int, reps, 0,
          "forwarding: repetitions per configuration, interleaved "
          "(0 = 9 with --quick, 21 otherwise)");
ABSL_FLAG(int, batch, 16384, "forwarding: packets per timed run");
ABSL_FLAG(int, train, 16,
          "forwarding: consecutive segments of one flow before another flow "
          "(a sender's TSO burst as the NIC delivers it)");
ABSL_FLAG(int, changes, 0,
          "config: changes timed per kind and scenario "
          "(0 = 300 with --quick, 1000 otherwise)");
ABSL_FLAG(int, hints, 100000, "hints: prefixes per AddRouteHints call");
ABSL_FLAG(double, wait_quiet, 0,
          "before each section, wait up to this many seconds until both "
          "lcores get >= 90% of a CPU (other processes on a shared machine "
          "distort every number); the share obtained is printed either way");
ABSL_FLAG(std::string, lcores, "0-1",
          "EAL -l argument (two lcores: main, worker), or an --lcores map "
          "such as 0@1,1@0 to swap which CPU runs the worker");
ABSL_FLAG(double, flush_seconds, 0,
          "flush: seconds per measurement (0 = 0.15 quick, 0.4 full)");

namespace grod::dataplane::bench {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;

constexpr size_t kTcpPayload = 1448;
constexpr size_t kUdpPayload = 1400;
constexpr uint16_t kBurst = 32;  // Worker::kBurst
constexpr size_t kTcp4PayloadOffset = 14 + 20 + 20;
constexpr int kChunkBursts = 32;  // forwarding: 1024 packets per timed chunk

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "forwarding_benchmark: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * v.size()));
  return v[i];
}
double Median(std::vector<double> v) { return Percentile(std::move(v), 50); }
double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

double TscToNs(double cycles) { return cycles * 1e9 / rte_get_tsc_hz(); }

void InitBenchEal() {
  const std::string lcores = absl::GetFlag(FLAGS_lcores);
  const bool map = lcores.find('@') != std::string::npos;
  Check(InitEal({map ? "--lcores" : "-l", lcores, "--no-huge", "-m", "2048", "--no-pci",
                 "--no-shconf", absl::StrCat("--file-prefix=bench", getpid()),
                 "--no-telemetry", "--log-level=*:warning"}),
        "EAL");
  if (!gro::RegisterDynfield()) Die("cannot register the GRO list field");
}

// Creates a virtual device at run time and returns its port id.
uint16_t ProbeVdev(const std::string& name, const std::string& args) {
  const std::string devargs = args.empty() ? name : name + "," + args;
  if (int rc = rte_dev_probe(devargs.c_str()); rc != 0) {
    Die(absl::StrCat("rte_dev_probe(", devargs, "): ", rte_strerror(-rc)));
  }
  uint16_t id;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
    Die("no port " + name);
  }
  return id;
}

std::string PortName(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, name);
  return name;
}

// ---------------------------------------------------------------------------
// Traffic

enum class Proto { kTcp4, kUdp4 };
const char* ProtoName(Proto p) { return p == Proto::kTcp4 ? "TCP4" : "UDP4"; }

// Destination of flow f: one address for all, or (spread) a pseudo-random
// one per flow, so route-hint lookups do not all walk the same path.
FlowAddress FlowOf(uint32_t f, bool spread = false) {
  FlowAddress a;
  a.src_v4 = 0x0a000001 + f;
  a.dst_v4 = spread ? (f + 1) * 2654435761u : 0x0a640001;
  a.sport = uint16_t(10000 + f);
  a.dport = 5201;
  return a;
}

// `packets` full-size segments of `flows` flows: trains of `train`
// consecutive segments of one flow, the flow of each train picked at random.
Frames MakeTrains(Proto proto, uint32_t flows, uint32_t packets,
                  uint32_t train, uint32_t seed, bool spread = false) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> next(flows, 0);
  Frames out;
  out.reserve(packets);
  while (out.size() < packets) {
    const uint32_t f = flows == 1 ? 0 : rng() % flows;
    for (uint32_t k = 0; k < train && out.size() < packets; ++k) {
      const uint32_t i = next[f]++;
      const FlowAddress a = FlowOf(f, spread);
      out.push_back(proto == Proto::kTcp4
                        ? TcpFrame(a, 1 + i * kTcpPayload, kTcpPayload)
                        : UdpFrame(a, i, kUdpPayload));
    }
  }
  return out;
}

TenantCounters TenantStats(const StatsSnapshot& s, const std::string& name) {
  for (const TenantCounters& t : s.tenants) {
    if (t.tenant == name) return t;
  }
  return {};
}

// ---------------------------------------------------------------------------
// Section: forwarding cost per packet

enum class FwdMode { kList, kMergeGso, kBypass, kMergeTso };
constexpr FwdMode kFwdModes[] = {FwdMode::kList, FwdMode::kMergeGso,
                                 FwdMode::kBypass, FwdMode::kMergeTso};
constexpr int kNumFwdModes = 4;

struct FwdRun {
  double cycles_per_pkt = 0;
  double segs_per_output = 0;  // GRO outputs (merged packets / lists)
};

class ForwardingHarness {
 public:
  explicit ForwardingHarness(uint32_t batch) : batch_(batch) {
    static int instance = 0;  // DPDK object names must be unique
    const std::string tag = absl::StrCat("bfwd", instance++);
    pool_ = rte_pktmbuf_pool_create((tag + "_pkts").c_str(), batch + 8191,
                                    256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    rte_socket_id());
    indirect_ = rte_pktmbuf_pool_create((tag + "_ind").c_str(), 8191, 256, 0,
                                        0, rte_socket_id());
    rx_ring_ =
        rte_ring_create((tag + "_rx").c_str(), rte_align32pow2(batch + 1),
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
      Die("net_null advertises TSO: MERGE would not use software GSO");
    }
    for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) peer_of_[p] = sink_;
    frame_mbufs_.resize(batch);
  }

  ~ForwardingHarness() {
    StopPort(rx_port_);
    StopPort(sink_);
    rte_ring_free(rx_ring_);
    rte_ring_free(tx_ring_);
    rte_mempool_free(indirect_);
    rte_mempool_free(pool_);
  }

  FwdRun Run(const Frames& frames, FwdMode mode,
             const RouteTable* routes = nullptr) {
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
      // What a TSO/USO-capable NIC would be handed: one chain per merge.
      caps[sink_].tcp_tso = caps[sink_].udp_tso = true;
      caps[sink_].multi_segment_tx = true;
    }
    auto counters = std::make_unique<PortLcoreCounters[]>(RTE_MAX_ETHPORTS);
    auto egress = std::make_unique<Egress>(
        0, Egress::Ports{peer_of_, caps, pool_, indirect_}, counters.get());
    auto stage = std::make_unique<GroStage>(4789, egress.get());
    WorkerCommand create{WorkerCommand::Kind::kCreate, 0, gro::ContextConfig{}};
    if (!stage->Execute(create)) Die("cannot create a GRO context");
    auto snap = std::make_unique<ConfigSnapshot>();
    Check(snap->classifier.Add({rx_port_, std::nullopt, std::nullopt}, 0),
          "classifier");
    TenantRuntime& t = snap->tenants[0];
    t.active = true;
    t.routes = routes;
    t.flush_kind = FlushKind::kPerBurst;
    t.default_mode = mode == FwdMode::kList     ? GroMode::kList
                     : mode == FwdMode::kBypass ? GroMode::kBypass
                                                : GroMode::kMerge;

    // Timed: Worker::Run's loop body for one RX queue, minus the command
    // ring poll and the RCU quiescent-state store.
    // Timed in chunks of kChunkBursts RX bursts: on a shared machine a chunk
    // hit by preemption is an outlier the per-run median ignores.
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
      Die(absl::StrFormat("mode %d: rx %u tx %u (want %u) dropped %u",
                          int(mode), rxc.rx_packets, tx.tx_packets, want_tx,
                          tx.tx_dropped));
    }
    if (mode == FwdMode::kMergeGso && tc.merged_packets_out &&
        tx.gso_segments == 0) {
      Die("MERGE output did not go through software GSO");
    }
    stage.reset();
    egress.reset();
    if (rte_mempool_in_use_count(pool_) || rte_mempool_in_use_count(indirect_))
      Die("mbuf leak in the forwarding path");
    FwdRun r;
    r.cycles_per_pkt =
        chunk_cycles_.size() >= 4 ? Median(chunk_cycles_) : double(t1 - t0) / n;
    r.segs_per_output = tc.packets_out ? double(tc.packets_in) / tc.packets_out
                                       : 0;
    return r;
  }

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

void ForwardingSection(int reps, uint32_t batch, uint32_t train,
                       const std::vector<uint32_t>& flow_counts) {
  ForwardingHarness h(batch);
  struct Config {
    Proto proto;
    uint32_t flows;
    Frames frames;
    std::vector<double> cycles[kNumFwdModes];
    std::vector<double> ratio_list_merge, ratio_list_bypass;
    double segs[kNumFwdModes] = {};
  };
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
    }
  }

  std::printf(
      "\n## Forwarding cost per packet (one core, %d interleaved repetitions "
      "of %u packets; each run timed in %d-packet chunks, median chunk; "
      "median over repetitions)\n\n",
      reps, batch, kChunkBursts * kBurst);
  std::printf(
      "TX port: net_null (no TSO/USO advertised: tcp_tso=%d udp_tso=%d), so "
      "MERGE output goes through software GSO. Trains of %u segments per "
      "flow; flush policy PER_BURST; RX bursts of %u.\n\n",
      h.sink_caps().tcp_tso, h.sink_caps().udp_tso, train, kBurst);
  std::printf(
      "| traffic | flows | LIST+unlink Mpps (ns/pkt) | MERGE+GSO Mpps "
      "(ns/pkt) | no GRO (BYPASS) Mpps (ns/pkt) | MERGE, TSO port* Mpps "
      "(ns/pkt) | LIST / MERGE+GSO | LIST / no GRO | segs/output "
      "LIST, MERGE |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Config& c : configs) {
    std::string cells;
    for (int mi = 0; mi < kNumFwdModes; ++mi) {
      const double ns = TscToNs(Median(c.cycles[mi]));
      cells += absl::StrFormat(" %.2f (%.0f) |", 1e3 / ns, ns);
    }
    std::printf("| %s %zuB | %u |%s %.2fx | %.2fx | %.1f, %.1f |\n",
                ProtoName(c.proto),
                c.proto == Proto::kTcp4 ? kTcpPayload : kUdpPayload, c.flows,
                cells.c_str(), Median(c.ratio_list_merge),
                Median(c.ratio_list_bypass), c.segs[0], c.segs[1]);
  }
  // What software GSO spends on its full L4 checksum (rte_raw_cksum over the
  // L4 header and payload of every segment), on the same frames, L1-warm.
  {
    const Frames& all = configs[0].frames;
    const Frames f(all.begin(), all.begin() + std::min<size_t>(256, all.size()));
    std::vector<double> per;
    uint32_t sum = 0;
    for (int r = 0; r < 21; ++r) {
      const uint64_t t0 = rte_rdtsc_precise();
      for (const auto& fr : f) sum += rte_raw_cksum(fr.data() + 34, fr.size() - 34);
      per.push_back(double(rte_rdtsc_precise() - t0) / f.size());
    }
    if (sum == 42) std::printf(" ");  // keep the sums
    std::printf(
        "\nFor reference: rte_raw_cksum over one %zu-byte TCP segment (what "
        "software GSO computes per output segment): %.0f ns (median of 21 "
        "passes over 256 TCP4 frames, data in L2).\n",
        f[0].size() - 34, TscToNs(Median(per)));
  }
  std::printf(
      "\n*MERGE, TSO port: the same run with the TX port pretending to have "
      "TSO/USO, so each merged chain is handed to net_null whole: the "
      "forwarding cost with a TSO NIC, not counting the NIC.\n"
      "Ratios are medians of per-repetition ratios (modes of one repetition "
      "run back to back). Spread (p10..p90 of ns/pkt, LIST | MERGE+GSO):");
  for (const Config& c : configs) {
    std::printf(" %s/%u: %.0f..%.0f | %.0f..%.0f;", ProtoName(c.proto),
                c.flows, TscToNs(Percentile(c.cycles[0], 10)),
                TscToNs(Percentile(c.cycles[0], 90)),
                TscToNs(Percentile(c.cycles[1], 10)),
                TscToNs(Percentile(c.cycles[1], 90)));
  }
  std::printf("\n");
}

std::vector<RouteHint> V4Hints(uint32_t n, uint32_t seed);

// What a tenant's route hints add per packet: the same LIST forwarding run
// with 0..100 000 IPv4 hints (every hint and the default say LIST, so only
// the lookup differs); 1024 flows to pseudo-random destinations.
void HintLookupSection(int reps, uint32_t batch) {
  ForwardingHarness h(batch);
  const Frames frames =
      MakeTrains(Proto::kTcp4, 1024, batch, 16, 99, /*spread=*/true);
  const uint32_t counts[] = {0, 16, 1024, RouteTable::kSmallMaxHints,
                             RouteTable::kSmallMaxHints + 1, 100000};
  std::vector<std::unique_ptr<RouteTable>> tables;
  for (uint32_t n : counts) {
    if (n == 0) {
      tables.push_back(nullptr);
      continue;
    }
    HintMap m;
    for (const RouteHint& hint : V4Hints(n, 5)) m[hint.prefix] = GroMode::kList;
    auto t = std::make_unique<RouteTable>(absl::StrCat("bench_rt", n));
    Check(t->Build(m), "route table");
    tables.push_back(std::move(t));
  }
  std::vector<std::vector<double>> cyc(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    h.Run(frames, FwdMode::kList, tables[i].get());  // warm-up
  }
  for (int rep = 0; rep < reps; ++rep) {
    for (size_t j = 0; j < tables.size(); ++j) {
      const size_t i = (j + rep) % tables.size();
      cyc[i].push_back(
          h.Run(frames, FwdMode::kList, tables[i].get()).cycles_per_pkt);
    }
  }
  std::printf(
      "\n## Route-hint lookup cost per packet (TCP4 LIST, 1024 flows to "
      "pseudo-random destinations, %d interleaved repetitions, medians)\n\n"
      "Up to %u hints a family uses a RIB-backed FIB (tree walk per "
      "lookup), beyond that DIR-24-8.\n\n"
      "| IPv4 hints on the tenant | ns/pkt | Mpps | added ns/pkt vs no "
      "hints |\n|---:|---:|---:|---:|\n",
      reps, RouteTable::kSmallMaxHints);
  const double base = TscToNs(Median(cyc[0]));
  for (size_t i = 0; i < tables.size(); ++i) {
    const double ns = TscToNs(Median(cyc[i]));
    std::printf("| %u | %.0f | %.2f | %+.0f |\n", counts[i], ns, 1e3 / ns,
                ns - base);
  }
}

// ---------------------------------------------------------------------------
// Data plane fixtures (real DpdkDataPlane, one worker on lcore 1)

// Workers may wait for StartForwarding() before polling RX (when the data
// plane has that call); works with and without it.
template <class DataPlaneT>
void StartForwardingIfNeeded(DataPlaneT& dp) {
  if constexpr (requires { dp.StartForwarding(); }) dp.StartForwarding();
}

std::unique_ptr<DpdkDataPlane> StartDataPlane(std::vector<PortSpec> ports,
                                              uint32_t idle_sleep_us) {
  RuntimeConfig rc;
  rc.ports = std::move(ports);
  rc.mbufs = 16383;
  rc.idle_sleep_us = idle_sleep_us;
  absl::StatusOr<std::unique_ptr<DpdkDataPlane>> dp = DpdkDataPlane::Start(rc);
  Check(dp.status(), "DpdkDataPlane::Start");
  StartForwardingIfNeeded(**dp);
  return *std::move(dp);
}

TenantSpec TenantOn(const std::string& name, uint16_t port, GroMode mode) {
  TenantSpec t;
  t.name = name;
  t.selectors.push_back({port, std::nullopt, std::nullopt});
  t.default_mode = mode;
  return t;
}

IpPrefix V4(uint32_t addr, uint8_t len) {
  IpPrefix p;
  const uint32_t masked = len == 0 ? 0 : addr & (~0u << (32 - len));
  p.addr[0] = masked >> 24;
  p.addr[1] = masked >> 16;
  p.addr[2] = masked >> 8;
  p.addr[3] = masked;
  p.length = len;
  return p;
}

IpPrefix V6(const std::array<uint8_t, 16>& addr, uint8_t len) {
  IpPrefix p;
  p.is_v6 = true;
  p.length = len;
  for (int b = 0; b < 16; ++b) {
    const int keep = std::clamp(int(len) - b * 8, 0, 8);
    p.addr[b] = keep == 0 ? 0 : addr[b] & uint8_t(0xff << (8 - keep));
  }
  return p;
}

struct Scenario {
  std::string name;
  std::unique_ptr<DpdkDataPlane> dp;
  uint16_t rx_port = 0;
  bool traffic = false;
};

// Idle: one net_null port with no RX; the worker polls it in a tight loop
// (or sleeps idle_sleep_us between empty polls).
Scenario IdleScenario(const std::string& tag, uint32_t idle_sleep_us) {
  Scenario s;
  s.name = idle_sleep_us
               ? absl::StrCat("idle, idle_sleep_us=", idle_sleep_us)
               : "idle (busy polling)";
  const std::string dev = "net_null_b" + tag;
  s.rx_port = ProbeVdev(dev, "no-rx=1");
  s.dp = StartDataPlane({{dev, "", 512, 512}}, idle_sleep_us);
  return s;
}

// Under traffic: net_pcap replays TCP bulk traffic (64 flows, MSS segments)
// forever; the worker merges it and transmits to net_null through GSO.
Scenario TrafficScenario(const std::string& tag, const std::string& pcap) {
  Scenario s;
  s.name = "under traffic (worker 100% busy)";
  s.traffic = true;
  const std::string rx = "net_pcap_b" + tag, tx = "net_null_b" + tag;
  s.rx_port = ProbeVdev(rx, absl::StrCat("rx_pcap=", pcap, ",infinite_rx=1"));
  ProbeVdev(tx, "no-rx=1");
  s.dp = StartDataPlane({{rx, tx, 512, 512}, {tx, rx, 512, 512}}, 0);
  return s;
}

void StopScenario(Scenario& s) {
  s.dp->Stop();
  if (s.dp->MbufsInUse() != 0) Die("data plane leaked mbufs");
  s.dp.reset();
}

struct Latencies {
  std::vector<double> us;
  std::string Row() const {
    return absl::StrFormat("%.1f | %.1f | %.1f", Median(us),
                           Percentile(us, 99), Max(us));
  }
};

Latencies TimeCalls(int n, const std::function<absl::Status(int)>& call,
                    const std::string& what) {
  Latencies l;
  l.us.reserve(n);
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status s = call(i);
    const auto t1 = std::chrono::steady_clock::now();
    Check(s, what);
    l.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return l;
}

uint64_t RxPackets(const DpdkDataPlane& dp) {
  uint64_t n = 0;
  for (const PortCounters& p : dp.Stats().ports) n += p.rx_packets;
  return n;
}

std::vector<RouteHint> V4Hints(uint32_t n, uint32_t seed);

void ConfigSection(int changes, const std::string& pcap, uint32_t big_hints) {
  std::printf(
      "\n## Config change -> every worker lcore using it (%d changes per "
      "row; call latency in us)\n\n",
      changes);
  std::printf(
      "The calls return only after every worker acknowledged the change "
      "(context rebuild through its command ring) and/or an RCU grace period "
      "passed (snapshot swap), so the call latency is the time until every "
      "lcore uses the new config. One worker lcore. The 1-hint rows add "
      "distinct /24s to a tenant that already has hints.\n\n");
  std::printf(
      "| worker state | change | median | p99 | max |\n"
      "|---|---|---:|---:|---:|\n");
  std::vector<std::function<Scenario()>> makers = {
      [] { return IdleScenario("cfg0", 0); },
      [&] { return TrafficScenario("cfg1", pcap); },
      [] { return IdleScenario("cfg2", 100); },
  };
  for (auto& make : makers) {
    Scenario s = make();
    TenantSpec t = TenantOn("bench", s.rx_port, GroMode::kMerge);
    t.flush.timeout_ns = 50'000;
    Check(s.dp->UpsertTenant(t), "create tenant");
    // The tenant's first IPv4 hint creates its two DIR-24-8 tables.
    const auto f0 = std::chrono::steady_clock::now();
    Check(s.dp->AddRouteHints(
              "bench", {{V4(0xc6000000u, 16), GroMode::kList}}),
          "first hint");
    const double first_hint_us =
        std::chrono::duration<double, std::micro>(
            std::chrono::steady_clock::now() - f0)
            .count();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const uint64_t rx0 = RxPackets(*s.dp);
    const auto start = std::chrono::steady_clock::now();

    Latencies policy = TimeCalls(
        changes,
        [&](int i) {
          t.flush.kind = i % 2 ? FlushKind::kPerBurst : FlushKind::kTimeout;
          return s.dp->UpsertTenant(t);
        },
        "policy change");
    t.flush.kind = FlushKind::kPerBurst;
    Latencies quota = TimeCalls(
        changes,
        [&](int i) {
          t.max_flows = i % 2 ? 4096 : 4000;
          return s.dp->UpsertTenant(t);
        },
        "quota change");
    Latencies hint = TimeCalls(
        changes,
        [&](int i) {
          const RouteHint h{V4(0xc6120000u + uint32_t(i) * 256, 24),
                            i % 2 ? GroMode::kList : GroMode::kBypass};
          return s.dp->AddRouteHints("bench", {h});
        },
        "1 hint");
    // A tenant that already has many hints: what one more costs.
    TenantSpec big = TenantOn("big", s.rx_port, GroMode::kMerge);
    big.selectors[0].vlan_id = 4000;  // a selector of its own
    Check(s.dp->UpsertTenant(big), "create big tenant");
    Check(s.dp->AddRouteHints("big", V4Hints(big_hints, 3)), "big hints");
    Latencies hint_big = TimeCalls(
        std::max(10, changes / 5),
        [&](int i) {
          const RouteHint h{V4(0x0a000000u + uint32_t(i), 32),
                            i % 2 ? GroMode::kList : GroMode::kBypass};
          return s.dp->AddRouteHints("big", {h});
        },
        "1 hint on a big tenant");
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    const double mpps = (RxPackets(*s.dp) - rx0) / secs / 1e6;
    std::string state = s.name;
    if (s.traffic) state += absl::StrFormat(", %.2f Mpps", mpps);
    std::printf("| %s | UpsertTenant: flush policy (snapshot swap) | %s |\n",
                state.c_str(), policy.Row().c_str());
    std::printf(
        "| %s | UpsertTenant: max_flows (context rebuild + swap) | %s |\n",
        state.c_str(), quota.Row().c_str());
    std::printf("| %s | AddRouteHints: 1 hint | %s |\n", state.c_str(),
                hint.Row().c_str());
    std::printf(
        "| %s | AddRouteHints: the tenant's first IPv4 hint (creates its "
        "route tables), once | %.1f | | |\n",
        state.c_str(), first_hint_us);
    std::printf(
        "| %s | AddRouteHints: 1 hint, tenant already has %u hints (%zu "
        "changes) | %s |\n",
        state.c_str(), big_hints, hint_big.us.size(), hint_big.Row().c_str());
    StopScenario(s);
  }
}

// ---------------------------------------------------------------------------
// Section: route hint install rate

std::vector<RouteHint> V4Hints(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::set<IpPrefix> seen;
  std::vector<RouteHint> out;
  // 95% /16../24 (uniform), 5% /32 host routes.
  while (out.size() < n) {
    const uint8_t len = rng() % 20 == 0 ? 32 : 16 + rng() % 9;
    const IpPrefix p = V4(rng(), len);
    if (!seen.insert(p).second) continue;
    out.push_back({p, rng() % 2 ? GroMode::kList : GroMode::kBypass});
  }
  return out;
}

// Like a provider's customer assignments under one /32: /48s, /56s and /64s
// (random 16-bit site ids, dense subnets), 5% /128 hosts.
std::vector<RouteHint> V6Hints(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::set<IpPrefix> seen;
  std::vector<RouteHint> out;
  while (out.size() < n) {
    std::array<uint8_t, 16> a = {0x20, 0x01, 0x0d, 0xb8};
    const uint32_t r = rng();
    const uint32_t site = r % 4096;  // 2001:db8:0XXX::/48
    a[4] = site >> 8;
    a[5] = site;
    a[6] = rng() % 8;  // subnets densely numbered
    a[7] = rng();
    for (int b = 8; b < 16; ++b) a[b] = rng();
    const uint32_t k = rng() % 20;
    const uint8_t len = k == 0 ? 128 : (k < 4 ? 48 : (k < 10 ? 56 : 64));
    const IpPrefix p = V6(a, len);
    if (!seen.insert(p).second) continue;
    out.push_back({p, rng() % 2 ? GroMode::kList : GroMode::kBypass});
  }
  return out;
}

// Consecutively numbered /64s under 2001:db8::/32 (one site's subnets).
std::vector<RouteHint> V6DenseHints(uint32_t n) {
  std::vector<RouteHint> out;
  for (uint32_t i = 0; i < n; ++i) {
    std::array<uint8_t, 16> a = {0x20, 0x01, 0x0d, 0xb8};
    a[4] = i >> 24;
    a[5] = i >> 16;
    a[6] = i >> 8;
    a[7] = i;
    out.push_back({V6(a, 64), i % 2 ? GroMode::kList : GroMode::kBypass});
  }
  return out;
}

// Seconds for one AddRouteHints call with `hints` on a fresh tenant, or
// nullopt (and the error in *error) if it fails.
std::optional<double> InstallOnce(Scenario& s,
                                  const std::vector<RouteHint>& hints,
                                  std::string* error) {
  Check(s.dp->UpsertTenant(TenantOn("hints", s.rx_port, GroMode::kMerge)),
        "create tenant");
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = s.dp->AddRouteHints("hints", hints);
  const auto t1 = std::chrono::steady_clock::now();
  Check(s.dp->RemoveTenant("hints"), "remove tenant");
  if (!st.ok()) {
    if (error) *error = std::string(st.message());
    return std::nullopt;
  }
  return std::chrono::duration<double>(t1 - t0).count();
}

void HintsSection(int reps, uint32_t n, const std::string& pcap) {
  std::printf(
      "\n## Route hint install: one AddRouteHints call with %u prefixes on "
      "one tenant (seconds; %d repetition(s), fresh tenant each)\n\n",
      n, reps);
  std::printf(
      "IPv4: 95%% /16../24, 5%% /32. IPv6 provider mix: under "
      "2001:db8::/32, 4096 sites, 15%% /48, 30%% /56, 50%% /64, 5%% /128. "
      "IPv6 dense: consecutive /64s. Each call fills the spare table, "
      "publishes it (one grace period), then brings the other table up to "
      "date. When %u do not fit, the largest leading part of the list that "
      "installs is found (to 1/1024) and timed instead.\n\n",
      n);
  std::printf(
      "| worker state | family | hints installed | median s | max s | "
      "hints/s |\n|---|---|---:|---:|---:|---:|\n");
  struct Family {
    const char* name;
    std::vector<RouteHint> hints;
    uint32_t fits = 0;  // 0 = not probed yet
    std::string error;
  };
  Family families[] = {
      {"IPv4 (mix)", V4Hints(n, 1)},
      {"IPv6 (provider mix)", V6Hints(n, 2)},
      {"IPv6 (dense /64s)", V6DenseHints(n)},
  };
  std::vector<std::function<Scenario()>> makers = {
      [] { return IdleScenario("hint0", 0); },
      [&] { return TrafficScenario("hint1", pcap); },
  };
  for (auto& make : makers) {
    Scenario s = make();
    for (Family& fam : families) {
      if (fam.fits == 0) {
        fam.fits = n;
        if (!InstallOnce(s, fam.hints, &fam.error)) {
          uint32_t lo = 0, hi = n;
          while (hi - lo > std::max(1u, n / 1024)) {
            const uint32_t mid = (lo + hi) / 2;
            std::vector<RouteHint> part(fam.hints.begin(),
                                        fam.hints.begin() + mid);
            (InstallOnce(s, part, nullptr) ? lo : hi) = mid;
          }
          fam.fits = lo;
        }
      }
      std::vector<RouteHint> part(fam.hints.begin(),
                                  fam.hints.begin() + fam.fits);
      std::vector<double> secs;
      for (int r = 0; r < reps && !part.empty(); ++r) {
        std::optional<double> t = InstallOnce(s, part, nullptr);
        if (!t) Die("a hint set that installed before failed");
        secs.push_back(*t);
      }
      std::string count = absl::StrCat(fam.fits);
      if (fam.fits < n) {
        count = absl::StrCat("**", fam.fits, " of ", n, "** (", n,
                             ": \"", fam.error, "\")");
      }
      std::printf("| %s | %s | %s | %.3f | %.3f | %.0f |\n", s.name.c_str(),
                  fam.name, count.c_str(), Median(secs), Max(secs),
                  secs.empty() ? 0 : fam.fits / Median(secs));
    }
    StopScenario(s);
  }
}

// ---------------------------------------------------------------------------
// Section: integrity (not a benchmark): does a segment whose TCP checksum is
// wrong leave with a wrong checksum, as a plain forwarder would send it?

bool TcpChecksumOk(const std::vector<uint8_t>& f) {
  if (f.size() < 54 || f[12] != 0x08 || f[13] != 0x00) return false;
  const size_t ihl = (f[14] & 0x0f) * 4;
  const size_t ip_len = (f[16] << 8) | f[17];
  const size_t l4 = 14 + ihl, end = 14 + ip_len;
  if (end > f.size()) return false;
  uint32_t sum = 0;
  for (size_t i = 26; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
  sum += 6 + (end - l4);
  for (size_t i = l4; i + 1 < end; i += 2) sum += (f[i] << 8) | f[i + 1];
  if ((end - l4) & 1) sum += f[end - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

void IntegritySection() {
  rte_ring* rx = rte_ring_create("bint_rx", 1024, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* tx = rte_ring_create("bint_tx", 1024, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_mempool* pool = rte_pktmbuf_pool_create(
      "bint_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!rx || !tx || !pool) Die("integrity memory");
  const int port = rte_eth_from_rings("bint", &rx, 1, &tx, 1, SOCKET_ID_ANY);
  if (port < 0) Die("rte_eth_from_rings");
  std::unique_ptr<DpdkDataPlane> dp =
      StartDataPlane({{PortName(port), "", 512, 512}}, 0);
  std::printf(
      "\n## Integrity check (not a benchmark): 16 TCP4 segments of one flow "
      "in one burst, segment 5's payload corrupted (one byte flipped, "
      "checksum left as it was)\n\n"
      "| mode | segments out | with a bad TCP checksum (a plain forwarder: "
      "1) |\n|---|---:|---:|\n");
  const struct {
    const char* name;
    GroMode mode;
  } modes[] = {{"BYPASS", GroMode::kBypass},
               {"LIST + unlink", GroMode::kList},
               {"MERGE + software GSO", GroMode::kMerge}};
  uint32_t seq = 1;
  for (const auto& m : modes) {
    Check(dp->UpsertTenant(TenantOn("integrity", port, m.mode)), "tenant");
    std::vector<rte_mbuf*> mbufs;
    for (int i = 0; i < 16; ++i, seq += kTcpPayload) {
      std::vector<uint8_t> f = TcpFrame(FlowOf(0), seq, kTcpPayload);
      if (i == 5) f[100] ^= 0x01;
      rte_mbuf* mb = rte_pktmbuf_alloc(pool);
      memcpy(rte_pktmbuf_append(mb, f.size()), f.data(), f.size());
      mbufs.push_back(mb);
    }
    if (rte_ring_enqueue_bulk(rx, reinterpret_cast<void**>(mbufs.data()),
                              mbufs.size(), nullptr) != mbufs.size()) {
      Die("integrity enqueue");
    }
    int out = 0, bad = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out < 16 && std::chrono::steady_clock::now() < deadline) {
      void* obj = nullptr;
      if (rte_ring_dequeue(tx, &obj) != 0) continue;
      rte_mbuf* mb = static_cast<rte_mbuf*>(obj);
      std::vector<uint8_t> bytes(mb->pkt_len);
      const void* d = rte_pktmbuf_read(mb, 0, mb->pkt_len, bytes.data());
      if (d != bytes.data()) memcpy(bytes.data(), d, mb->pkt_len);
      rte_pktmbuf_free(mb);
      ++out;
      bad += !TcpChecksumOk(bytes);
    }
    std::printf("| %s | %d | %d |\n", m.name, out, bad);
  }
  dp->Stop();
  if (dp->MbufsInUse() != 0) Die("data plane leaked mbufs");
  dp.reset();
  rte_ring_free(rx);
  rte_ring_free(tx);
  if (rte_mempool_in_use_count(pool) != 0) Die("integrity: mbufs leaked");
  rte_mempool_free(pool);
}

// ---------------------------------------------------------------------------
// Section: flush policies, merge ratio vs added latency

struct Policy {
  const char* name;
  GroMode mode;
  FlushKind kind;
  uint64_t timeout_ns;
};
constexpr Policy kPolicies[] = {
    {"no GRO (BYPASS), reference", GroMode::kBypass, FlushKind::kPerBurst, 0},
    {"PER_BURST", GroMode::kMerge, FlushKind::kPerBurst, 0},
    {"TIMEOUT 50us", GroMode::kMerge, FlushKind::kTimeout, 50'000},
    {"TIMEOUT 200us", GroMode::kMerge, FlushKind::kTimeout, 200'000},
    {"ADAPTIVE 200us", GroMode::kMerge, FlushKind::kAdaptive, 200'000},
    {"LIST, PER_BURST", GroMode::kList, FlushKind::kPerBurst, 0},
    {"LIST, TIMEOUT 50us", GroMode::kList, FlushKind::kTimeout, 50'000},
};

struct Load {
  const char* name;
  uint32_t flows;
  uint32_t interval_ns;  // 0 = full load
};

struct FlushResult {
  double segs_per_output = 0;
  std::vector<double> lat_us;
  double mpps = 0;
  double busy = 0;  // worker busy fraction
};

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

// The flush-policy trade-off on one thread with a virtual clock: the real
// GroStage and Egress (TX into a ring-backed port that is read back), the
// clock advanced by the CPU time each loop iteration really took
// (CLOCK_THREAD_CPUTIME_ID, so time this thread spends descheduled by other
// processes is not counted) and, when idle, by 1 us per empty poll.
uint64_t ThreadCpuNs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

class FlushSim {
 public:
  FlushSim() {
    pool_ = rte_pktmbuf_pool_create("bfs_pkts", 65535, 256, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    indirect_ = rte_pktmbuf_pool_create("bfs_ind", 16383, 256, 0, 0,
                                        rte_socket_id());
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
    auto counters = std::make_unique<PortLcoreCounters[]>(RTE_MAX_ETHPORTS);
    auto egress = std::make_unique<Egress>(
        0, Egress::Ports{peer_of_, caps, pool_, indirect_}, counters.get());
    auto stage = std::make_unique<GroStage>(4789, egress.get());
    WorkerCommand create{WorkerCommand::Kind::kCreate, 0, gro::ContextConfig{}};
    if (!stage->Execute(create)) Die("cannot create a GRO context");
    auto snap = std::make_unique<ConfigSnapshot>();
    Check(snap->classifier.Add({port_, std::nullopt, std::nullopt}, 0),
          "classifier");
    TenantRuntime& t = snap->tenants[0];
    t.active = true;
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

void FlushSimSection(uint32_t low_packets, uint32_t full_packets, int reps) {
  const Load loads[] = {
      {"low rate: 1 flow, 100 kpps", 1, 10'000},
      {"low rate: 64 flows, 100 kpps", 64, 10'000},
      {"full load: 1 flow", 1, 0},
      {"full load: 64 flows (round robin)", 64, 0},
  };
  FlushSim sim;
  std::printf(
      "\n## Flush policies: aggregation vs added latency (TCP4 %zuB; MERGE + "
      "software GSO unless LIST; one thread, virtual clock; median of %d "
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
  for (const Load& load : loads) {
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
      std::printf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.2f |\n",
                  load.name, p.name, Median(segs), Median(p50), Median(p99),
                  Median(mx), Median(mpps));
    }
  }
}

void FlushSection(double seconds, int reps) {
  const Load loads[] = {
      {"low rate: 1 flow, 100 kpps", 1, 10'000},
      {"low rate: 64 flows, 100 kpps", 64, 10'000},
      {"full load: 1 flow", 1, 0},
      {"full load: 64 flows (round robin)", 64, 0},
  };
  FlushHarness h;
  std::printf(
      "\n## Flush policies with the real worker lcore (two threads: "
      "meaningful only with two otherwise idle CPUs; TCP4 "
      "%zuB, MERGE + software GSO unless LIST; %.2f s per cell, median of "
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
  for (const Load& load : loads) {
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

std::string LoadAverage() {
  char buf[128] = "?";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fgets(buf, sizeof(buf), f) == nullptr) strcpy(buf, "?");
    std::fclose(f);
  }
  std::string s = buf;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Spins for `ms` of wall time; returns the fraction of it this thread ran.
double SpinShare(int ms) {
  timespec c0, c1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  const auto w0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - w0 <
         std::chrono::milliseconds(ms)) {
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  const double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  return cpu / (ms / 1000.0);
}

int SpinShareOnLcore(void* arg) {
  *static_cast<double*>(arg) = SpinShare(300);
  return 0;
}

// CPU share the main lcore and the worker lcore get right now (both spin
// at once for 300 ms).
std::pair<double, double> CpuShares() {
  double worker = 0;
  const unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  rte_eal_remote_launch(&SpinShareOnLcore, &worker, lcore);
  const double main = SpinShare(300);
  rte_eal_wait_lcore(lcore);
  return {main, worker};
}

void Section(const char* name, const std::function<void()>& run) {
  const double wait_s = absl::GetFlag(FLAGS_wait_quiet);
  const auto w0 = std::chrono::steady_clock::now();
  std::pair<double, double> share = CpuShares();
  while ((share.first < 0.9 || share.second < 0.9) &&
         std::chrono::steady_clock::now() - w0 <
             std::chrono::duration<double>(wait_s)) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    share = CpuShares();
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::string before = LoadAverage();
  run();
  const std::pair<double, double> after = CpuShares();
  std::printf(
      "\n(%s: %.0f s; CPU share a spinning thread got on lcore 0 / lcore 1: "
      "%.0f%% / %.0f%% before, %.0f%% / %.0f%% after; /proc/loadavg before: "
      "%s, after: %s)\n",
      name,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count(),
      100 * share.first, 100 * share.second, 100 * after.first,
      100 * after.second, before.c_str(), LoadAverage().c_str());
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const bool quick = absl::GetFlag(FLAGS_quick);
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  const std::vector<std::string> sections =
      absl::StrSplit(absl::GetFlag(FLAGS_sections), ',');
  auto want = [&](const char* s) {
    return std::find(sections.begin(), sections.end(), s) != sections.end();
  };
  int reps = absl::GetFlag(FLAGS_reps);
  if (reps <= 0) reps = smoke ? 1 : (quick ? 9 : 21);
  uint32_t batch = smoke ? 512 : absl::GetFlag(FLAGS_batch);
  int changes = absl::GetFlag(FLAGS_changes);
  if (changes <= 0) changes = smoke ? 10 : (quick ? 300 : 1000);
  const uint32_t hints = smoke ? 1000 : absl::GetFlag(FLAGS_hints);
  double flush_s = absl::GetFlag(FLAGS_flush_seconds);
  if (flush_s <= 0) flush_s = smoke ? 0.02 : (quick ? 0.15 : 0.4);

  InitBenchEal();
  char cpu[256] = "unknown";
  if (FILE* f = popen("lscpu | sed -n 's/^Model name: *//p'", "r")) {
    if (fgets(cpu, sizeof(cpu), f) == nullptr) strcpy(cpu, "unknown\n");
    pclose(f);
  }
  std::printf("# grod forwarding benchmark\n\nCPU: %sTSC: %.3f GHz; %u lcores "
              "(main + 1 worker)%s\n",
              cpu, rte_get_tsc_hz() / 1e9, rte_lcore_count(),
              smoke ? "; SMOKE RUN (toy sizes, numbers meaningless)" : "");

  // Traffic for the "under traffic" scenarios: 64 TCP flows in trains.
  const std::string pcap = absl::StrCat("/tmp/grod_bench_", getpid(), ".pcap");
  if (want("config") || want("hints")) {
    Check(WritePcap(pcap, MakeTrains(Proto::kTcp4, 64, 2048, 16, 7)),
          "write pcap");
  }
  if (want("forwarding")) {
    Section("forwarding", [&] {
      ForwardingSection(reps, batch, absl::GetFlag(FLAGS_train),
                        smoke ? std::vector<uint32_t>{1, 64}
                              : std::vector<uint32_t>{1, 64, 1024});
    });
  }
  if (want("lookup")) {
    Section("lookup", [&] { HintLookupSection(reps, batch); });
  }
  if (want("config")) {
    Section("config", [&] { ConfigSection(changes, pcap, hints); });
  }
  if (want("hints")) {
    Section("hints",
            [&] { HintsSection(smoke || quick ? 1 : 3, hints, pcap); });
  }
  if (want("flush")) {
    Section("flush", [&] {
      FlushSimSection(smoke ? 200 : (quick ? 2000 : 5000),
                      smoke ? 1024 : (quick ? 16384 : 32768),
                      smoke ? 1 : (quick ? 3 : 5));
    });
  }
  if (want("flush_real")) {
    Section("flush_real",
            [&] { FlushSection(flush_s, smoke || quick ? 1 : 3); });
  }
  if (want("integrity")) IntegritySection();
  std::remove(pcap.c_str());
  std::fflush(stdout);
  CleanupEal();
  return 0;
}

}  // namespace
}  // namespace grod::dataplane::bench

int main(int argc, char** argv) {
  return grod::dataplane::bench::Main(argc, argv);
}
