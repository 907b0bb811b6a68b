#include "metrics/stats_collector.h"

#include <limits>
#include <string>
#include <utility>

#include "common/segment_buckets.h"

namespace grod::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;
using FamilyList = std::vector<MetricFamily>;

// The pass-through reason the data plane reports for packets the tenant's
// mode or a route hint sent past GRO (dataplane/gro/context.cc); they are
// the output kind "bypassed", not "passed_through".
constexpr char kBypassReason[] = "bypass";

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void Add(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

// One family per field of a per-port, per-tenant, ... counters struct: one
// sample per item, labelled by `label_of(item)`.
template <typename T>
struct Field {
  const char* name;
  const char* help;
  MetricType type;
  uint64_t T::*field;
};

template <typename T, size_t N, typename LabelFn>
void AddFields(const Field<T> (&fields)[N], const std::vector<T>& items,
               LabelFn label_of, FamilyList& out) {
  for (const Field<T>& fd : fields) {
    MetricFamily f = Family(fd.name, fd.help, fd.type);
    for (const T& item : items) {
      Add(f, label_of(item), static_cast<double>(item.*(fd.field)));
    }
    out.push_back(std::move(f));
  }
}

// --- Process and configuration ---------------------------------------------

void AddProcessFamilies(bool ready, const std::optional<ConfigVersion>& config,
                        uint64_t snapshot_generation, const BuildLabels& build,
                        FamilyList& out) {
  auto or_unknown = [](const std::string& s) {
    return s.empty() ? std::string("unknown") : s;
  };
  MetricFamily info = Family(
      "grod_build_info",
      "Always 1; the labels say which grod (version, commit) and DPDK run.",
      MetricType::Gauge);
  Add(info,
      {{"version", or_unknown(build.version)},
       {"commit", or_unknown(build.commit)},
       {"dpdk_version", or_unknown(build.dpdk_version)}},
      1);
  out.push_back(std::move(info));

  MetricFamily up =
      Family("grod_dataplane_ready",
             "1 once ports are started and workers poll.", MetricType::Gauge);
  Add(up, {}, ready ? 1 : 0);
  out.push_back(std::move(up));

  MetricFamily gen = Family(
      "grod_config_generation",
      "Generation of the applied configuration; increases on every change.",
      MetricType::Gauge);
  Add(gen, {},
      static_cast<double>(config ? config->generation : snapshot_generation));
  out.push_back(std::move(gen));
  if (!config) return;

  MetricFamily quarantined = Family(
      "grod_state_file_quarantined",
      "1 if grod moved its state file aside at start-up (corrupt, or not "
      "applicable on this machine) and runs on the config file's tenants.",
      MetricType::Gauge);
  Add(quarantined, {}, config->state_quarantined ? 1 : 0);
  out.push_back(std::move(quarantined));
  if (config->last_change != absl::InfinitePast()) {
    MetricFamily changed = Family("grod_config_last_change_timestamp_seconds",
                                  "Unix time of the last configuration change.",
                                  MetricType::Gauge);
    Add(changed, {},
        absl::ToDoubleSeconds(config->last_change - absl::UnixEpoch()));
    out.push_back(std::move(changed));
  }
}

// --- Ports -------------------------------------------------------------------

// Ports are labelled by their configured device name: stable across
// restarts, unlike probe-order ids, and bounded by the configuration.
std::string PortLabel(const PortCounters& p) {
  return p.name.empty() ? "port" + std::to_string(p.port_id) : p.name;
}

constexpr MetricType kCounter = MetricType::Counter;
constexpr MetricType kGauge = MetricType::Gauge;

constexpr Field<PortCounters> kPortFields[] = {
    {"grod_port_receive_packets_total", "Packets received on the port.",
     kCounter, &PortCounters::rx_packets},
    {"grod_port_receive_bytes_total", "Bytes received on the port.", kCounter,
     &PortCounters::rx_bytes},
    {"grod_port_receive_missed_packets_total",
     "Packets the NIC dropped because RX rings were full (imissed).", kCounter,
     &PortCounters::rx_missed},
    {"grod_port_transmit_packets_total", "Packets transmitted on the port.",
     kCounter, &PortCounters::tx_packets},
    {"grod_port_transmit_bytes_total", "Bytes transmitted on the port.",
     kCounter, &PortCounters::tx_bytes},
    {"grod_port_transmit_dropped_packets_total",
     "Packets egress dropped instead of transmitting on the port, all "
     "reasons (see grod_port_transmit_dropped_packets_by_reason_total).",
     kCounter, &PortCounters::tx_dropped},
    {"grod_port_gso_segments_total",
     "Segments produced by software GSO for this port (no NIC TSO, or "
     "beyond its TSO limits).",
     kCounter, &PortCounters::gso_segments},
    {"grod_port_receive_no_mbuf_total",
     "RX mbuf allocations that found the pool empty (driver rx_nombuf).",
     kCounter, &PortCounters::rx_nombuf},
    {"grod_port_receive_errors_total",
     "Erroneous packets the driver received (ierrors).", kCounter,
     &PortCounters::rx_errors},
    {"grod_port_transmit_errors_total",
     "Packets the driver failed to transmit (oerrors).", kCounter,
     &PortCounters::tx_errors},
    {"grod_port_ip_fragments_total",
     "IPv4 fragments egress made so datagrams fit the port's MTU.", kCounter,
     &PortCounters::ip_fragments},
};

void AddPortFamilies(const std::vector<PortCounters>& ports, FamilyList& out) {
  AddFields(
      kPortFields, ports,
      [](const PortCounters& p) {
        return Labels{{"port", PortLabel(p)}};
      },
      out);
  MetricFamily drops =
      Family("grod_port_transmit_dropped_packets_by_reason_total",
             "Packets egress dropped instead of transmitting on the port, by "
             "reason.",
             kCounter);
  for (const PortCounters& p : ports) {
    for (const auto& [reason, n] : p.tx_drops) {
      Add(drops, {{"port", PortLabel(p)}, {"reason", reason}},
          static_cast<double>(n));
    }
  }
  out.push_back(std::move(drops));
}

// --- Tenants -----------------------------------------------------------------

Labels TenantLabels(const TenantCounters& t) { return {{"tenant", t.tenant}}; }

constexpr Field<TenantCounters> kTenantFields[] = {
    {"grod_tenant_receive_packets_total", "Packets classified to the tenant.",
     kCounter, &TenantCounters::packets_in},
    {"grod_tenant_receive_bytes_total", "Bytes classified to the tenant.",
     kCounter, &TenantCounters::bytes_in},
    {"grod_gro_segments_merged_total",
     "Input segments that left in merged (coalesced) output packets.", kCounter,
     &TenantCounters::segments_merged},
    {"grod_gro_segments_listed_total",
     "Input segments that left in list-mode output packets.", kCounter,
     &TenantCounters::segments_listed},
    {"grod_gro_merge_as_list_packets_total",
     "Packets of MERGE traffic linked (LIST) instead of merged because the "
     "port their output leaves by cannot take a merged packet whole (no "
     "TSO/USO for their kind, a vhost-user guest without TSO): they leave as "
     "they came, with no checksum verified. Also in the listed counters.",
     kCounter, &TenantCounters::merge_as_list_packets},
    {"grod_gro_held_flows", "Flows with packets held for merging.", kGauge,
     &TenantCounters::held_flows},
    {"grod_gro_held_packets", "Packets held in GRO tables awaiting a flush.",
     kGauge, &TenantCounters::held_packets},
};

// Every output packet is of exactly one kind, so the kinds add up to the
// tenant's output.
void AddOutputByKind(const std::vector<TenantCounters>& tenants,
                     FamilyList& out) {
  MetricFamily f = Family(
      "grod_tenant_output_packets_total",
      "Packets the tenant's GRO stage emitted, by kind: merged (2+ segments "
      "coalesced), listed (2+ segments chained), single (a lone segment, "
      "nothing to merge with), bypassed (GRO skipped by mode or route hint), "
      "passed_through (not mergeable, see grod_passthrough_packets_total). "
      "The kinds add up to the total.",
      kCounter);
  for (const TenantCounters& t : tenants) {
    uint64_t passed_through = 0;
    for (const auto& [reason, n] : t.passthrough) {
      if (reason != kBypassReason) passed_through += n;
    }
    for (const auto& [kind, n] :
         {std::pair{"merged", t.merged_packets_out},
          std::pair{"listed", t.list_packets_out},
          std::pair{"single", t.single_packets_out},
          std::pair{"bypassed", t.bypass_packets},
          std::pair{"passed_through", passed_through}}) {
      Add(f, {{"tenant", t.tenant}, {"kind", kind}}, static_cast<double>(n));
    }
  }
  out.push_back(std::move(f));
}

// Converts the data plane's per-bucket (non-cumulative) counts into a
// Prometheus histogram. Entries beyond kSegmentBucketCount are folded into
// +Inf so a mismatched data plane shows up as odd data, not as a crash.
ClientMetric SegmentsHistogram(const TenantCounters& t) {
  ClientMetric m;
  m.label = TenantLabels(t);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kSegmentBuckets.size(); ++i) {
    if (i < t.segments_per_output.size())
      cumulative += t.segments_per_output[i];
    m.histogram.bucket.push_back(
        {cumulative, static_cast<double>(kSegmentBuckets[i])});
  }
  for (size_t i = kSegmentBuckets.size(); i < t.segments_per_output.size();
       ++i) {
    cumulative += t.segments_per_output[i];
  }
  m.histogram.bucket.push_back(
      {cumulative, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = cumulative;
  // Total segments carried by the counted outputs: merged and listed outputs
  // carry segments_merged / segments_listed segments, every other output
  // (bypass, lone segment) carries one. Never below one per output.
  const uint64_t grouped = t.merged_packets_out + t.list_packets_out;
  const uint64_t singles = cumulative > grouped ? cumulative - grouped : 0;
  const uint64_t sum = t.segments_merged + t.segments_listed + singles;
  m.histogram.sample_sum =
      static_cast<double>(sum > cumulative ? sum : cumulative);
  return m;
}

void AddReasonFamilies(const std::vector<TenantCounters>& tenants,
                       FamilyList& out) {
  MetricFamily flushes =
      Family("grod_gro_flushes_total", "GRO flush events by reason.", kCounter);
  MetricFamily pass = Family(
      "grod_passthrough_packets_total",
      "Packets that skipped GRO, by reason (not_ip, truncated, bypass, ...).",
      kCounter);
  for (const TenantCounters& t : tenants) {
    for (const auto& [reason, n] : t.flushes) {
      Add(flushes, {{"tenant", t.tenant}, {"reason", reason}},
          static_cast<double>(n));
    }
    for (const auto& [reason, n] : t.passthrough) {
      Add(pass, {{"tenant", t.tenant}, {"reason", reason}},
          static_cast<double>(n));
    }
  }
  out.push_back(std::move(flushes));
  out.push_back(std::move(pass));
}

void AddTenantFamilies(const std::vector<TenantCounters>& tenants,
                       FamilyList& out) {
  AddFields(kTenantFields, tenants, TenantLabels, out);
  AddOutputByKind(tenants, out);
  MetricFamily hist =
      Family("grod_gro_segments_per_output",
             "Segments carried per GRO output packet.", MetricType::Histogram);
  for (const TenantCounters& t : tenants) {
    hist.metric.push_back(SegmentsHistogram(t));
  }
  out.push_back(std::move(hist));
  AddReasonFamilies(tenants, out);
}

// --- Workers -----------------------------------------------------------------

Labels WorkerLabels(const WorkerCounters& w) {
  return {{"lcore", std::to_string(w.lcore)}};
}

constexpr Field<WorkerCounters> kWorkerFields[] = {
    {"grod_worker_stalls_total",
     "Times the worker lcore was found to have stopped polling.", kCounter,
     &WorkerCounters::stalls},
    {"grod_worker_pool_pressure_iterations_total",
     "Poll loop iterations that found the mbuf pool below the pressure "
     "threshold (and flushed the largest GRO holders).",
     kCounter, &WorkerCounters::pressure_iterations},
    {"grod_worker_pool_pressure_flushed_flows_total",
     "Held flows flushed because the mbuf pool ran low.", kCounter,
     &WorkerCounters::pressure_flushed_flows},
};

// Polling time in seconds (Prometheus' base unit): counters, so that any
// number of scrapers get the busy share over any window as
// rate(busy) / rate(polling). Omitted when the cycle rate is unknown.
void AddWorkerTime(const std::vector<WorkerCounters>& workers, uint64_t tsc_hz,
                   FamilyList& out) {
  if (tsc_hz == 0) return;
  MetricFamily busy = Family(
      "grod_worker_busy_seconds_total",
      "Time the worker spent in RX polls that returned packets.", kCounter);
  MetricFamily polling =
      Family("grod_worker_polling_seconds_total",
             "Time the worker spent polling, busy or not.", kCounter);
  const double hz = static_cast<double>(tsc_hz);
  for (const WorkerCounters& w : workers) {
    Add(busy, WorkerLabels(w), static_cast<double>(w.busy_cycles) / hz);
    Add(polling, WorkerLabels(w), static_cast<double>(w.total_cycles) / hz);
  }
  out.push_back(std::move(busy));
  out.push_back(std::move(polling));
}

void AddWorkerFamilies(const std::vector<WorkerCounters>& workers,
                       uint64_t tsc_hz, FamilyList& out) {
  AddWorkerTime(workers, tsc_hz, out);
  MetricFamily stalled = Family(
      "grod_worker_stalled",
      "1 while the worker lcore has stopped polling (no heartbeat for the "
      "stall timeout); health is NOT_SERVING meanwhile.",
      kGauge);
  for (const WorkerCounters& w : workers) {
    Add(stalled, WorkerLabels(w), w.stalled ? 1 : 0);
  }
  out.push_back(std::move(stalled));
  AddFields(kWorkerFields, workers, WorkerLabels, out);
}

// --- Mbuf pools --------------------------------------------------------------

constexpr Field<MempoolCounters> kMempoolFields[] = {
    {"grod_mempool_size_mbufs", "Mbufs the pool was created with.", kGauge,
     &MempoolCounters::size},
    {"grod_mempool_in_use_mbufs",
     "Mbufs taken from the pool (RX rings, held by GRO, in flight, in "
     "per-lcore caches).",
     kGauge, &MempoolCounters::in_use},
};

}  // namespace

StatsCollector::StatsCollector(const DataPlane* dp,
                               ConfigVersionFn config_version,
                               BuildLabels build)
    : dp_(dp),
      config_version_(std::move(config_version)),
      build_(std::move(build)) {}

std::vector<MetricFamily> StatsCollector::Collect() const {
  std::optional<ConfigVersion> config;
  if (config_version_) config = config_version_();
  return Families(dp_->Stats(), dp_->Ready(), config, build_);
}

std::vector<MetricFamily> StatsCollector::Families(
    const StatsSnapshot& stats, bool ready,
    const std::optional<ConfigVersion>& config, const BuildLabels& build) {
  std::vector<MetricFamily> out;
  AddProcessFamilies(ready, config, stats.config_generation, build, out);
  AddPortFamilies(stats.ports, out);
  AddTenantFamilies(stats.tenants, out);
  AddWorkerFamilies(stats.workers, stats.tsc_hz, out);
  AddFields(
      kMempoolFields, stats.mempools,
      [](const MempoolCounters& m) {
        return Labels{{"pool", m.name}};
      },
      out);
  // A family without samples only adds HELP/TYPE noise to every scrape.
  std::erase_if(out, [](const MetricFamily& f) { return f.metric.empty(); });
  return out;
}

}  // namespace grod::metrics
