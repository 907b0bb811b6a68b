// Forwarding-path benchmark (issue #4). Prints Markdown tables.
//
//   bazel run -c opt //dataplane/bench:forwarding_benchmark -- --quick
//   bazel run -c opt //dataplane/bench:forwarding_benchmark
//   ... -- --sections=forwarding --reps=31        # one part
// (--quick: ~1 min; everything: ~3 min)
//
// Sections (this file only parses the flags and runs them in order):
//  forwarding  LIST + unlink vs MERGE to a port without TSO (linked) vs BYPASS,
//              on one core. The benchmark thread drives the real GroStage and
//              Egress classes through a copy of Worker::Run's loop body (RX
//              burst from a ring-backed port, ProcessBurst, FlushByPolicy,
//              Egress::FlushAll), transmitting into net_null (no-rx=1), which
//              frees what it is given. Mbufs are built before the timed region.
//              forwarding_section.cc, forwarding_harness.cc
//  lookup      The same LIST run with 0..100 000 IPv4 route hints on the
//              tenant: what the hint lookup adds. hint_lookup_section.cc
//  config      Time for UpsertTenant / AddRouteHints to return, i.e. until
//              every worker lcore acknowledged the change or passed an RCU
//              grace period, with the real DpdkDataPlane and its worker
//              polling (idle, idle with idle_sleep_us, under traffic).
//              config_section.cc
//  hints       One AddRouteHints call with 100 000 IPv4 / IPv6 prefixes.
//              hint_install_section.cc
//  flush       Flush policies: merge ratio and per-packet latency at a low
//              packet rate and at full load, on one thread with a virtual
//              clock (thread CPU time). flush_sim_section.cc
//  flush_real  The same with the real worker (timestamp written into the
//              payload at injection, read at TX collection); not run by
//              default. flush_real_section.cc
//  integrity   Not a benchmark: a corrupted segment must leave with a bad
//              checksum in every mode. integrity_section.cc
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dataplane/bench/bench_eal.h"
#include "dataplane/bench/config_section.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/flush_real_section.h"
#include "dataplane/bench/flush_sim_section.h"
#include "dataplane/bench/forwarding_section.h"
#include "dataplane/bench/hint_install_section.h"
#include "dataplane/bench/hint_lookup_section.h"
#include "dataplane/bench/integrity_section.h"
#include "dataplane/bench/section_runner.h"
#include "dataplane/bench/traffic.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/traffic/sample_traffic.h"

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
  const double wait_quiet_s = absl::GetFlag(FLAGS_wait_quiet);

  InitBenchEal(absl::GetFlag(FLAGS_lcores));
  char cpu[256] = "unknown";
  if (FILE* f = popen("lscpu | sed -n 's/^Model name: *//p'", "r")) {
    if (fgets(cpu, sizeof(cpu), f) == nullptr) strcpy(cpu, "unknown\n");
    pclose(f);
  }
  std::printf(
      "# grod forwarding benchmark\n\nCPU: %sTSC: %.3f GHz; %u lcores "
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
    RunSection("forwarding", wait_quiet_s, [&] {
      ForwardingSection(reps, batch, absl::GetFlag(FLAGS_train),
                        smoke ? std::vector<uint32_t>{1, 64}
                              : std::vector<uint32_t>{1, 64, 1024});
    });
  }
  if (want("lookup")) {
    RunSection("lookup", wait_quiet_s, [&] { HintLookupSection(reps, batch); });
  }
  if (want("config")) {
    RunSection("config", wait_quiet_s,
               [&] { ConfigSection(changes, pcap, hints); });
  }
  if (want("hints")) {
    RunSection("hints", wait_quiet_s, [&] {
      HintInstallSection(smoke || quick ? 1 : 3, hints, pcap);
    });
  }
  if (want("flush")) {
    RunSection("flush", wait_quiet_s, [&] {
      FlushSimSection(smoke ? 200 : (quick ? 2000 : 5000),
                      smoke ? 1024 : (quick ? 16384 : 32768),
                      smoke ? 1 : (quick ? 3 : 5));
    });
  }
  if (want("flush_real")) {
    RunSection("flush_real", wait_quiet_s,
               [&] { FlushRealSection(flush_s, smoke || quick ? 1 : 3); });
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
