#include "dataplane/testing/ring_port.h"

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <sched.h>

#include <cstdlib>

#include "common/testing/wait_for.h"
#include "dataplane/runtime/eal.h"

namespace grod::dataplane::testing {

void InitTestEal(int workers) {
  static bool done = false;
  if (done) return;
  const std::string prefix = "--file-prefix=dp" + std::to_string(getpid());
  // lcore 0 on the first allowed CPU, workers spread over the others.
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  std::string lcores = "0@" + std::to_string(cpus[0]);
  for (int w = 1; w <= workers; ++w) {
    lcores +=
        "," + std::to_string(w) + "@" + std::to_string(cpus[w % cpus.size()]);
  }
  absl::Status s = InitEal({"--lcores=" + lcores, "--no-huge", "-m", "1024",
                            "--no-pci", "--no-shconf", prefix, "--no-telemetry",
                            "--log-level=*:warning"});
  if (!s.ok()) {
    std::fprintf(stderr, "EAL init failed: %s\n", s.ToString().c_str());
    std::abort();
  }
  done = true;
}

RingPort::RingPort(const std::string& name, int queues) : name_(name) {
  bool ok = true;
  for (int q = 0; q < queues; ++q) {
    const std::string n = name + "_" + std::to_string(q);
    rx_.push_back(rte_ring_create((n + "rx").c_str(), 4096, SOCKET_ID_ANY,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ));
    tx_.push_back(rte_ring_create((n + "tx").c_str(), 65536, SOCKET_ID_ANY,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ));
    ok = ok && rx_.back() != nullptr && tx_.back() != nullptr;
  }
  pool_ = rte_pktmbuf_pool_create((name + "_pool").c_str(), 16383, 0, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  const int id = ok ? rte_eth_from_rings(name.c_str(), rx_.data(), queues,
                                         tx_.data(), queues, SOCKET_ID_ANY)
                    : -1;
  if (pool_ == nullptr || id < 0) {
    std::fprintf(stderr, "RingPort %s: setup failed\n", name.c_str());
    std::abort();
  }
  port_id_ = id;
  // The ring PMD prefixes the name ("net_ring_<name>").
  char dev[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port_id_, dev);
  device_ = dev;
}

RingPort::~RingPort() {
  Collect();
  for (rte_ring* r : rx_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
    rte_ring_free(r);
  }
  for (rte_ring* r : tx_) rte_ring_free(r);
  rte_mempool_free(pool_);
}

size_t RingPort::Inject(const std::vector<std::vector<uint8_t>>& frames,
                        int queue) {
  // Build every mbuf first, then enqueue in bursts, so the data plane sees
  // the packets back to back as from a NIC rather than trickling in.
  std::vector<rte_mbuf*> mbufs;
  for (const std::vector<uint8_t>& f : frames) {
    // The pool runs dry only while the data plane still has earlier
    // injections in flight: wait for it to give some back.
    rte_mbuf* m = nullptr;
    ::grod::testing::WaitFor(
        [&] { return (m = rte_pktmbuf_alloc(pool_)) != nullptr; },
        ::grod::testing::kWaitTimeout, absl::Microseconds(50));
    if (m == nullptr) {
      std::fprintf(stderr, "RingPort %s: injection pool never refilled\n",
                   name_.c_str());
      std::abort();
    }
    char* data = rte_pktmbuf_append(m, f.size());
    memcpy(data, f.data(), f.size());
    mbufs.push_back(m);
  }
  size_t done = 0;
  const bool all = ::grod::testing::WaitFor(
      [&] {
        done += rte_ring_enqueue_burst(
            rx_[queue], reinterpret_cast<void**>(mbufs.data() + done),
            mbufs.size() - done, nullptr);
        return done == mbufs.size();
      },
      ::grod::testing::kWaitTimeout, absl::Microseconds(50));
  if (!all) {
    std::fprintf(stderr, "RingPort %s: RX queue %d never drained\n",
                 name_.c_str(), queue);
    std::abort();
  }
  injected_ += frames.size();
  return frames.size();
}

std::vector<std::vector<uint8_t>> RingPort::Collect() {
  std::vector<std::vector<uint8_t>> out;
  void* p;
  for (rte_ring* r : tx_) {
    while (rte_ring_dequeue(r, &p) == 0) {
      rte_mbuf* m = static_cast<rte_mbuf*>(p);
      std::vector<uint8_t> bytes(m->pkt_len);
      const void* d = rte_pktmbuf_read(m, 0, m->pkt_len, bytes.data());
      if (d != bytes.data()) memcpy(bytes.data(), d, m->pkt_len);
      out.push_back(std::move(bytes));
      rte_pktmbuf_free(m);
    }
  }
  return out;
}

std::vector<rte_mbuf*> RingPort::CollectMbufs() {
  std::vector<rte_mbuf*> out;
  void* p;
  for (rte_ring* r : tx_) {
    while (rte_ring_dequeue(r, &p) == 0) {
      out.push_back(static_cast<rte_mbuf*>(p));
    }
  }
  return out;
}

std::vector<std::vector<uint8_t>> RingPort::CollectAtLeast(size_t count,
                                                           int timeout_ms) {
  std::vector<std::vector<uint8_t>> out;
  ::grod::testing::WaitFor(
      [&] {
        for (auto& f : Collect()) out.push_back(std::move(f));
        return out.size() >= count;
      },
      absl::Milliseconds(timeout_ms), absl::Milliseconds(1));
  return out;
}

unsigned RingPort::InjectPoolInUse() const {
  return rte_mempool_in_use_count(pool_);
}

}  // namespace grod::dataplane::testing
