#include "dataplane/bench/section_runner.h"

#include <rte_launch.h>
#include <rte_lcore.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

namespace grod::dataplane::bench {
namespace {

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

}  // namespace

void RunSection(const char* name, double wait_quiet_seconds,
                const std::function<void()>& run) {
  const auto w0 = std::chrono::steady_clock::now();
  std::pair<double, double> share = CpuShares();
  while ((share.first < 0.9 || share.second < 0.9) &&
         std::chrono::steady_clock::now() - w0 <
             std::chrono::duration<double>(wait_quiet_seconds)) {
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

}  // namespace grod::dataplane::bench
