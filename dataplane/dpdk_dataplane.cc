#include "dataplane/dpdk_dataplane.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include <rte_malloc.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/guest_watch.h"
#include "dataplane/runtime/port.h"
#include "dataplane/runtime/port_kind.h"

namespace grod::dataplane {

namespace {

constexpr unsigned kPoolCacheSize = 256;

// The mbufs the data plane needs for itself -- the one definition of the
// reserve that tenants' held-packet quotas must leave free (MbufBudget):
//  - every RX ring is kept full:            queues x each port's rx_descriptors
//  - TX rings hold sent packets until done: queues x each port's tx_descriptors
//  - per worker, in hand at once: an RX burst per port (Worker::kBurst), an
//    egress batch per port (Egress::kBatch) and one software-GSO split
//    (Egress::kMaxSplit header mbufs)
//  - per EAL lcore, the pool's cache, which other lcores cannot take from
// (`rings`: the sum over ports of their rx + tx descriptors per queue.)
uint64_t MbufReserve(size_t ports, uint16_t queues, uint64_t rings_per_queue) {
  const uint64_t rings = uint64_t{queues} * rings_per_queue;
  const uint64_t in_hand =
      uint64_t{queues} *
      (ports * (uint64_t{Worker::kBurst} + Egress::kBatch) + Egress::kMaxSplit);
  const uint64_t caches = uint64_t{rte_lcore_count()} * kPoolCacheSize;
  return rings + in_hand + caches;
}

// Free mbufs below which workers flush the largest GRO holders first:
// an eighth of the pool, and at least what the lcores' pool caches may
// hide from the worker's cheap count (PoolGauge) plus two RX bursts per
// port, so RX keeps finding mbufs.
unsigned PressureThreshold(uint32_t pool_size, size_t ports) {
  const unsigned caches = rte_lcore_count() * kPoolCacheSize * 3 / 2;
  const unsigned bursts = ports * 2 * Worker::kBurst;
  return std::max<unsigned>(pool_size / 8, caches + bursts);
}

}  // namespace

PortInfo DpdkDataPlane::DescribeTap(const Port& p) {
  PortInfo info;
  info.port_id = p.id;
  info.name = p.name;
  info.driver = absl::StrCat("grod_tap:", p.tap->interface());
  info.kind = PortKind::kVnetTap;
  info.consumer = p.tap->consumer();
  info.mac_address = p.tap->MacAddress();
  info.link_up = true;  // grod holds every queue of it
  info.mtu = p.caps.mtu;
  return info;
}

absl::StatusOr<std::unique_ptr<DpdkDataPlane>> DpdkDataPlane::Start(
    const RuntimeConfig& config) {
  std::unique_ptr<DpdkDataPlane> dp(new DpdkDataPlane());
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { dp->worker_lcores_.push_back(lcore); }
  if (dp->worker_lcores_.empty()) {
    return absl::InvalidArgumentError(
        "grod needs at least one worker lcore besides the main one: pass "
        "e.g. \"-l\", \"0-1\" in eal_args");
  }
  if (absl::Status s = dp->ResolvePorts(config); !s.ok()) return s;
  if (absl::Status s = dp->StartPortsAndWorkers(config); !s.ok()) {
    dp->Stop();
    return s;
  }
  return dp;
}

absl::Status DpdkDataPlane::ResolvePorts(const RuntimeConfig& config) {
  std::vector<uint16_t> ids;
  if (config.ports.empty()) {
    uint16_t id;
    RTE_ETH_FOREACH_DEV(id) { ids.push_back(id); }
    if (ids.empty()) {
      return absl::InvalidArgumentError(
          "EAL probed no ports: add devices to eal_args (-a <pci address> "
          "for a NIC bound to vfio-pci, or --vdev=net_tap0 to try without "
          "one)");
    }
    // Pair ports in probe order; a lone port forwards to itself.
    for (size_t i = 0; i < ids.size(); ++i) {
      const size_t peer = (i % 2 == 0) ? i + 1 : i - 1;
      ports_.push_back({ids[i], ids[peer < ids.size() ? peer : i], {}});
    }
  } else {
    // Tap ports are not ethdevs: they take port ids no ethdev has, from
    // the top (grod attaches no device after start-up).
    std::map<std::string, uint16_t> by_name;
    uint16_t next_free = RTE_MAX_ETHPORTS;
    for (const PortSpec& spec : config.ports) {
      if (spec.tap_interface.empty()) {
        absl::StatusOr<uint16_t> id = PortByName(spec.device);
        if (!id.ok()) return id.status();
        ids.push_back(*id);
      } else {
        do {
          if (next_free == 0) {
            return absl::ResourceExhaustedError(
                absl::StrCat("no port id left for tap '", spec.device,
                             "': at most ", RTE_MAX_ETHPORTS, " ports in all"));
          }
          --next_free;
        } while (rte_eth_dev_is_valid_port(next_free));
        ids.push_back(next_free);
      }
      by_name[spec.device] = ids.back();
    }
    for (size_t i = 0; i < config.ports.size(); ++i) {
      const PortSpec& spec = config.ports[i];
      const size_t pair = i ^ 1;  // default: paired in listed order
      uint16_t peer = ids[pair < ids.size() ? pair : i];
      if (!spec.peer.empty()) {
        if (auto it = by_name.find(spec.peer); it != by_name.end()) {
          peer = it->second;
        } else {
          absl::StatusOr<uint16_t> p = PortByName(spec.peer);
          if (!p.ok()) {
            return absl::InvalidArgumentError(
                absl::StrCat("ports[", i, "].peer: ", p.status().message()));
          }
          peer = *p;
        }
      }
      ports_.push_back({ids[i],
                        peer,
                        {},
                        spec.tso_max_bytes,
                        spec.mtu,
                        spec.rx_descriptors,
                        spec.tx_descriptors,
                        spec.device,
                        spec.tap_interface,
                        nullptr,
                        spec.segment_merged_in_software});
    }
  }
  for (const Port& p : ports_) peer_of_[p.id] = p.peer;
  return absl::OkStatus();
}

absl::Status DpdkDataPlane::StartPortsAndWorkers(const RuntimeConfig& config) {
  if (absl::Status s = CreatePools(config); !s.ok()) return s;
  if (absl::Status s = StartPorts(); !s.ok()) return s;
  return StartWorkers(config);
}

absl::Status DpdkDataPlane::CreatePools(const RuntimeConfig& config) {
  const uint16_t nq = worker_lcores_.size();
  uint64_t rings_per_queue = 0;
  for (const Port& p : ports_) {
    rings_per_queue += uint64_t{p.rx_descriptors} + p.tx_descriptors;
  }
  mbufs_.pool_size = config.mbufs;
  mbufs_.reserve = MbufReserve(ports_.size(), nq, rings_per_queue);
  mbufs_.worker_lcores = nq;
  if (mbufs_.pool_size < mbufs_.reserve) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mbufs: ", config.mbufs, " is too few for ", ports_.size(), " ports x ",
        nq, " queues; the data plane alone needs ", mbufs_.reserve,
        " (raise mbufs or lower rx/tx_descriptors; see docs/OPERATIONS.md, "
        "\"Resource admission\")"));
  }
  pool_ = rte_pktmbuf_pool_create("grod_pkts", config.mbufs, kPoolCacheSize, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create a pool of ", config.mbufs, " mbufs (",
                     rte_strerror(rte_errno),
                     "): give EAL more memory (-m <MB> with --no-huge, or more "
                     "hugepages)"));
  }
  // Software GSO references payload through indirect mbufs (zero copy).
  indirect_pool_ = rte_pktmbuf_pool_create("grod_gso_ind", config.mbufs, 256, 0,
                                           0, rte_socket_id());
  if (indirect_pool_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create the GSO pool (", rte_strerror(rte_errno),
                     "): give EAL more memory"));
  }
  if (!gro::RegisterDynfield()) {
    return absl::InternalError("cannot register the GRO list mbuf field");
  }
  return absl::OkStatus();
}

absl::Status DpdkDataPlane::StartPorts() {
  const uint16_t nq = worker_lcores_.size();
  PortQueues queues;
  queues.rx_queues = queues.tx_queues = nq;
  for (Port& p : ports_) {
    if (!p.tap_interface.empty()) {
      absl::StatusOr<std::unique_ptr<VnetTap>> tap =
          VnetTap::Open({p.tap_interface, nq, p.mtu}, pool_);
      if (!tap.ok()) {
        return absl::Status(
            tap.status().code(),
            absl::StrCat("port '", p.name, "': ", tap.status().message()));
      }
      p.tap = tap->get();
      p.caps = p.tap->capabilities();
      p.caps.segment_merged_in_software = p.segment_merged_in_software;
      caps_of_[p.id] = p.caps;
      taps_.push_back(std::move(*tap));
      continue;
    }
    queues.mtu = p.mtu;
    queues.rx_descriptors = p.rx_descriptors;
    queues.tx_descriptors = p.tx_descriptors;
    absl::StatusOr<PortCapabilities> caps = StartPort(p.id, queues, pool_);
    if (!caps.ok()) return caps.status();
    p.caps = *caps;
    p.caps.tso_max_bytes = p.tso_max_bytes;
    p.caps.segment_merged_in_software = p.segment_merged_in_software;
    caps_of_[p.id] = p.caps;
    if (DescribePort(p.id).kind == PortKind::kVhostUser) {
      if (absl::Status s = WatchGuest(p.id, &guests_); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status DpdkDataPlane::StartWorkers(const RuntimeConfig& config) {
  const uint16_t nq = worker_lcores_.size();
  const size_t qsbr_size = rte_rcu_qsbr_get_memsize(nq);
  qsbr_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc("grod_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, nq) != 0) {
    return absl::ResourceExhaustedError("cannot allocate the RCU variable");
  }
  tenants_ = std::make_unique<TenantManager>(qsbr_, config.vxlan_port,
                                             config.verify_checksums);

  std::vector<Worker*> workers;
  for (uint16_t q = 0; q < nq; ++q) {
    WorkerSetup setup;
    setup.lcore = worker_lcores_[q];
    setup.rcu_thread_id = q;
    setup.tx_queue = q;
    setup.ports = {peer_of_, caps_of_, pool_, indirect_pool_, &guests_};
    setup.vxlan_port = config.vxlan_port;
    setup.idle_sleep_us = config.idle_sleep_us;
    setup.qsbr = qsbr_;
    setup.snapshot = tenants_->snapshot();
    setup.rx_pool = pool_;
    setup.pressure_free_mbufs = PressureThreshold(config.mbufs, ports_.size());
    for (const Port& p : ports_) {
      TapQueue* tap = p.tap ? p.tap->queue(q) : nullptr;
      setup.rx.push_back({p.id, q, tap});
      if (tap) setup.taps.push_back({p.id, tap});
    }
    std::unique_ptr<Worker> w = Worker::Create(setup);
    if (w == nullptr) {
      return absl::ResourceExhaustedError("cannot allocate a command ring");
    }
    workers.push_back(w.get());
    workers_.push_back(std::move(w));
  }
  tenants_->AttachWorkers({workers.begin(), workers.end()});
  for (auto& w : workers_) {
    int rc = rte_eal_remote_launch(&Worker::Main, w.get(), w->lcore());
    if (rc != 0) {
      return absl::InternalError(absl::StrCat("cannot launch worker on lcore ",
                                              w->lcore(), ": ",
                                              rte_strerror(-rc)));
    }
  }
  launched_ = true;
  liveness_ = std::make_unique<LivenessMonitor>(
      workers, absl::Milliseconds(config.worker_stall_ms));
  ready_ = true;
  return absl::OkStatus();
}

void DpdkDataPlane::StartForwarding() {
  for (auto& w : workers_) w->StartForwarding();
}

void DpdkDataPlane::Stop() {
  ready_ = false;
  liveness_.reset();
  if (launched_) {
    for (auto& w : workers_) w->Stop();
    for (auto& w : workers_) rte_eal_wait_lcore(w->lcore());
    launched_ = false;
  }
  // Workers flushed what they held on the way out; free their contexts
  // before the pools the held mbufs came from.
  workers_.clear();
  for (uint16_t i = 0; i < guests_.count; ++i) {
    UnwatchGuest(guests_.ports[i], &guests_);
  }
  guests_.count = 0;
  for (const Port& p : ports_) {
    if (p.tap_interface.empty()) StopPort(p.id);
  }
  ports_.clear();
  taps_.clear();  // closes the taps, returns their stashed mbufs
  tenants_.reset();
  rte_free(qsbr_);
  qsbr_ = nullptr;
  rte_mempool_free(indirect_pool_);
  indirect_pool_ = nullptr;
  rte_mempool_free(pool_);
  pool_ = nullptr;
}

DpdkDataPlane::~DpdkDataPlane() { Stop(); }

unsigned DpdkDataPlane::MbufsInUse() const {
  return (pool_ ? rte_mempool_in_use_count(pool_) : 0) +
         (indirect_pool_ ? rte_mempool_in_use_count(indirect_pool_) : 0);
}

DataPlaneInfo DpdkDataPlane::Info() const {
  DataPlaneInfo info;
  info.dpdk_version = rte_version();
  info.main_lcore = rte_get_main_lcore();
  info.worker_lcores.assign(worker_lcores_.begin(), worker_lcores_.end());
  return info;
}

std::vector<PortInfo> DpdkDataPlane::Ports() const {
  std::vector<PortInfo> out;
  for (const Port& p : ports_) {
    PortInfo info = p.tap ? DescribeTap(p) : DescribePort(p.id);
    info.peer_port_id = p.peer;
    info.capabilities = p.caps;
    info.rx_queues = info.tx_queues = worker_lcores_.size();
    out.push_back(std::move(info));
  }
  return out;
}

StatsSnapshot DpdkDataPlane::Stats() const {
  StatsSnapshot s;
  for (const Port& p : ports_) {
    PortCounters c;
    c.port_id = p.id;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (p.tap) {
      c.name = p.name;
    } else if (rte_eth_dev_get_name_by_port(p.id, name) == 0) {
      c.name = name;
    }
    for (const auto& w : workers_) {
      const PortLcoreCounters& lc = w->port_counters(p.id);
      c.rx_packets += ReadCounter(lc.rx_packets);
      c.rx_bytes += ReadCounter(lc.rx_bytes);
      c.tx_packets += ReadCounter(lc.tx_packets);
      c.tx_bytes += ReadCounter(lc.tx_bytes);
      c.tx_dropped += ReadCounter(lc.tx_dropped);
      c.gso_segments += ReadCounter(lc.gso_segments);
      c.ip_fragments += ReadCounter(lc.ip_fragments);
      for (int r = 0; r < kTxDropReasonCount; ++r) {
        if (const uint64_t n = ReadCounter(lc.tx_drops[r]); n != 0) {
          c.tx_drops[kTxDropNames[r]] += n;
        }
      }
    }
    rte_eth_stats hw;
    if (p.tap) {
      for (uint16_t q = 0; q < p.tap->queue_count(); ++q) {
        const TapQueue& tq = *p.tap->queue(q);
        c.rx_nombuf += ReadCounter(tq.rx_nombuf);
        c.rx_errors += ReadCounter(tq.rx_errors);
        c.tx_errors += ReadCounter(tq.tx_errors);
      }
    } else if (rte_eth_stats_get(p.id, &hw) == 0) {
      c.rx_missed = hw.imissed;
      c.rx_nombuf = hw.rx_nombuf;
      c.rx_errors = hw.ierrors;
      c.tx_errors = hw.oerrors;
    }
    s.ports.push_back(std::move(c));
  }
  for (const rte_mempool* pool : {pool_, indirect_pool_}) {
    if (pool == nullptr) continue;
    s.mempools.push_back(
        {pool->name, pool->size, rte_mempool_in_use_count(pool)});
  }
  if (tenants_) tenants_->AddStats(&s);
  s.tsc_hz = rte_get_tsc_hz();
  for (size_t i = 0; i < workers_.size(); ++i) {
    const Worker& w = *workers_[i];
    WorkerCounters wc;
    wc.lcore = w.lcore();
    wc.busy_cycles = ReadCounter(w.load().busy_cycles);
    wc.total_cycles = ReadCounter(w.load().total_cycles);
    wc.stalled = w.stalled();
    wc.stalls = liveness_ ? liveness_->stalls(i) : 0;
    wc.pressure_iterations = ReadCounter(w.load().pressure_iterations);
    wc.pressure_flushed_flows = ReadCounter(w.load().pressure_flushed_flows);
    s.workers.push_back(wc);
  }
  return s;
}

bool DpdkDataPlane::WorkersAlive() const {
  return liveness_ == nullptr || liveness_->AllAlive();
}

absl::Status DpdkDataPlane::ReadyStatus() const {
  if (!ready_.load()) {
    return absl::UnavailableError("data plane is not ready yet; retry shortly");
  }
  std::vector<unsigned> stalled;
  for (const auto& w : workers_) {
    if (w->stalled()) stalled.push_back(w->lcore());
  }
  if (stalled.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      stalled.size() == 1 ? "worker lcore " : "worker lcores ",
      absl::StrJoin(stalled, ", "),
      " stopped polling (stuck): grod is NOT_SERVING and refuses changes "
      "until it recovers (restart grod if it does not)"));
}

void DpdkDataPlane::SetLivenessCallback(std::function<void()> on_change) {
  if (liveness_) liveness_->SetCallback(std::move(on_change));
}

absl::Status DpdkDataPlane::StallWorkerForTest(unsigned lcore,
                                               absl::Duration duration) {
  if (!tenants_) return absl::UnavailableError("the data plane is stopped");
  return tenants_->StallWorkerForTest(lcore, duration);
}

absl::Status DpdkDataPlane::UpsertTenant(const TenantSpec& spec) {
  if (!tenants_) return absl::UnavailableError("the data plane is stopped");
  return tenants_->Upsert(spec);
}

absl::Status DpdkDataPlane::RemoveTenant(const std::string& name) {
  if (!tenants_) return absl::UnavailableError("the data plane is stopped");
  return tenants_->Remove(name);
}

absl::Status DpdkDataPlane::AddRouteHints(const std::string& tenant,
                                          const std::vector<RouteHint>& hints) {
  if (!tenants_) return absl::UnavailableError("the data plane is stopped");
  return tenants_->AddHints(tenant, hints);
}

absl::Status DpdkDataPlane::RemoveRouteHints(
    const std::string& tenant, const std::vector<IpPrefix>& prefixes) {
  if (!tenants_) return absl::UnavailableError("the data plane is stopped");
  return tenants_->RemoveHints(tenant, prefixes);
}

absl::Status DpdkDataPlane::SetUnmatchedTenant(const std::string& tenant) {
  if (!tenants_) return absl::UnavailableError("the data plane is stopped");
  return tenants_->SetUnmatched(tenant);
}

}  // namespace grod::dataplane
