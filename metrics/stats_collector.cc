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

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void AddCounter(MetricFamily& f, Labels labels, uint64_t value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = static_cast<double>(value);
  f.metric.push_back(std::move(m));
}

void AddGauge(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// Ports are labelled by their configured device name: stable across
// restarts, unlike probe-order ids, and bounded by the configuration.
std::string PortLabel(const PortCounters& p) {
  return p.name.empty() ? "port" + std::to_string(p.port_id) : p.name;
}

// Converts the data plane's per-bucket (non-cumulative) counts into a
// Prometheus histogram. Entries beyond kSegmentBucketCount are folded into
// +Inf so a mismatched data plane shows up as odd data, not as a crash.
ClientMetric SegmentsHistogram(const TenantCounters& t) {
  ClientMetric m;
  m.label = {{"tenant", t.tenant}};
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

}  // namespace

StatsCollector::StatsCollector(const DataPlane* dp,
                               ConfigVersionFn config_version)
    : dp_(dp), config_version_(std::move(config_version)) {}

std::vector<MetricFamily> StatsCollector::Collect() const {
  const StatsSnapshot stats = dp_->Stats();
  std::optional<ConfigVersion> config;
  if (config_version_) config = config_version_();
  return Families(stats, dp_->Ready(), config, BusyRatio(stats.workers));
}

std::map<uint32_t, double> StatsCollector::BusyRatio(
    const std::vector<WorkerCounters>& workers) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint32_t, double> ratio;
  for (const WorkerCounters& w : workers) {
    Cycles& last = last_cycles_[w.lcore];
    // A counter that went backwards (data plane restarted) restarts the
    // interval from zero.
    if (w.total_cycles < last.total || w.busy_cycles < last.busy) last = {};
    const uint64_t total = w.total_cycles - last.total;
    const uint64_t busy = w.busy_cycles - last.busy;
    if (total > 0) {
      ratio[w.lcore] = static_cast<double>(busy) / static_cast<double>(total);
      last = {w.busy_cycles, w.total_cycles};
    } else {
      // No polls since the last scrape: keep the interval open so the next
      // scrape measures a real one; report the worker as idle meanwhile.
      ratio[w.lcore] = 0.0;
    }
  }
  return ratio;
}

std::vector<MetricFamily> StatsCollector::Families(
    const StatsSnapshot& stats, bool ready,
    const std::optional<ConfigVersion>& config,
    const std::map<uint32_t, double>& busy_ratio) {
  const MetricType kCounter = MetricType::Counter;
  const MetricType kGauge = MetricType::Gauge;
  std::vector<MetricFamily> out;

  // --- Process / configuration -------------------------------------------
  MetricFamily up =
      Family("grod_dataplane_ready",
             "1 once ports are started and workers poll.", kGauge);
  AddGauge(up, {}, ready ? 1 : 0);
  out.push_back(std::move(up));

  MetricFamily gen = Family(
      "grod_config_generation",
      "Generation of the applied configuration; increases on every change.",
      kGauge);
  AddGauge(gen, {},
           static_cast<double>(config ? config->generation
                                      : stats.config_generation));
  out.push_back(std::move(gen));

  if (config) {
    MetricFamily quarantined = Family(
        "grod_state_file_quarantined",
        "1 if grod moved its state file aside at start-up (corrupt, or not "
        "applicable on this machine) and runs on the config file's tenants.",
        kGauge);
    AddGauge(quarantined, {}, config->state_quarantined ? 1 : 0);
    out.push_back(std::move(quarantined));
  }

  if (config && config->last_change != absl::InfinitePast()) {
    MetricFamily changed =
        Family("grod_config_last_change_timestamp_seconds",
               "Unix time of the last configuration change.", kGauge);
    AddGauge(changed, {},
             absl::ToDoubleSeconds(config->last_change - absl::UnixEpoch()));
    out.push_back(std::move(changed));
  }

  // --- Ports ---------------------------------------------------------------
  struct PortField {
    const char* name;
    const char* help;
    uint64_t PortCounters::*field;
  };
  static constexpr PortField kPortFields[] = {
      {"grod_port_receive_packets_total", "Packets received on the port.",
       &PortCounters::rx_packets},
      {"grod_port_receive_bytes_total", "Bytes received on the port.",
       &PortCounters::rx_bytes},
      {"grod_port_receive_missed_packets_total",
       "Packets the NIC dropped because RX rings were full (imissed).",
       &PortCounters::rx_missed},
      {"grod_port_transmit_packets_total", "Packets transmitted on the port.",
       &PortCounters::tx_packets},
      {"grod_port_transmit_bytes_total", "Bytes transmitted on the port.",
       &PortCounters::tx_bytes},
      {"grod_port_transmit_dropped_packets_total",
       "Packets egress dropped instead of transmitting on the port, all "
       "reasons (see grod_port_transmit_dropped_packets_by_reason_total).",
       &PortCounters::tx_dropped},
      {"grod_port_gso_segments_total",
       "Segments produced by software GSO for this port (no NIC TSO, or "
       "beyond its TSO limits).",
       &PortCounters::gso_segments},
      {"grod_port_receive_no_mbuf_total",
       "RX mbuf allocations that found the pool empty (driver rx_nombuf).",
       &PortCounters::rx_nombuf},
      {"grod_port_receive_errors_total",
       "Erroneous packets the driver received (ierrors).",
       &PortCounters::rx_errors},
      {"grod_port_transmit_errors_total",
       "Packets the driver failed to transmit (oerrors).",
       &PortCounters::tx_errors},
      {"grod_port_ip_fragments_total",
       "IPv4 fragments egress made so datagrams fit the port's MTU.",
       &PortCounters::ip_fragments},
  };
  for (const PortField& pf : kPortFields) {
    MetricFamily f = Family(pf.name, pf.help, kCounter);
    for (const PortCounters& p : stats.ports) {
      AddCounter(f, {{"port", PortLabel(p)}}, p.*(pf.field));
    }
    out.push_back(std::move(f));
  }
  MetricFamily drops =
      Family("grod_port_transmit_dropped_packets_by_reason_total",
             "Packets egress dropped instead of transmitting on the port, by "
             "reason.",
             kCounter);
  for (const PortCounters& p : stats.ports) {
    for (const auto& [reason, n] : p.tx_drops) {
      AddCounter(drops, {{"port", PortLabel(p)}, {"reason", reason}}, n);
    }
  }
  out.push_back(std::move(drops));

  // --- Tenants -------------------------------------------------------------
  MetricFamily in_pkts = Family("grod_tenant_receive_packets_total",
                                "Packets classified to the tenant.", kCounter);
  MetricFamily in_bytes = Family("grod_tenant_receive_bytes_total",
                                 "Bytes classified to the tenant.", kCounter);
  MetricFamily out_pkts =
      Family("grod_tenant_output_packets_total",
             "Packets the tenant's GRO stage emitted (all modes).", kCounter);
  MetricFamily by_mode = Family(
      "grod_gro_output_packets_total",
      "GRO output packets by mode: merge (several segments coalesced into "
      "one packet), list (several segments chained as a packet list), "
      "bypass (passed without GRO by mode). Single-segment outputs are in "
      "grod_tenant_output_packets_total only.",
      kCounter);
  MetricFamily merged =
      Family("grod_gro_segments_merged_total",
             "Input segments that left in merged (coalesced) output packets.",
             kCounter);
  MetricFamily listed =
      Family("grod_gro_segments_listed_total",
             "Input segments that left in list-mode output packets.", kCounter);
  MetricFamily hist =
      Family("grod_gro_segments_per_output",
             "Segments carried per GRO output packet.", MetricType::Histogram);
  MetricFamily flows = Family("grod_gro_held_flows",
                              "Flows with packets held for merging.", kGauge);
  MetricFamily held =
      Family("grod_gro_held_packets",
             "Packets held in GRO tables awaiting a flush.", kGauge);
  MetricFamily flushes =
      Family("grod_gro_flushes_total", "GRO flush events by reason.", kCounter);
  MetricFamily pass = Family(
      "grod_passthrough_packets_total",
      "Packets that skipped GRO, by reason (unsupported, fragment, ...).",
      kCounter);
  for (const TenantCounters& t : stats.tenants) {
    const Labels tl = {{"tenant", t.tenant}};
    AddCounter(in_pkts, tl, t.packets_in);
    AddCounter(in_bytes, tl, t.bytes_in);
    AddCounter(out_pkts, tl, t.packets_out);
    AddCounter(by_mode, {{"tenant", t.tenant}, {"mode", "merge"}},
               t.merged_packets_out);
    AddCounter(by_mode, {{"tenant", t.tenant}, {"mode", "list"}},
               t.list_packets_out);
    AddCounter(by_mode, {{"tenant", t.tenant}, {"mode", "bypass"}},
               t.bypass_packets);
    AddCounter(merged, tl, t.segments_merged);
    AddCounter(listed, tl, t.segments_listed);
    hist.metric.push_back(SegmentsHistogram(t));
    AddGauge(flows, tl, static_cast<double>(t.held_flows));
    AddGauge(held, tl, static_cast<double>(t.held_packets));
    for (const auto& [reason, n] : t.flushes) {
      AddCounter(flushes, {{"tenant", t.tenant}, {"reason", reason}}, n);
    }
    for (const auto& [reason, n] : t.passthrough) {
      AddCounter(pass, {{"tenant", t.tenant}, {"reason", reason}}, n);
    }
  }
  for (MetricFamily* f : {&in_pkts, &in_bytes, &out_pkts, &by_mode, &merged,
                          &listed, &hist, &flows, &held, &flushes, &pass}) {
    out.push_back(std::move(*f));
  }

  // --- Workers -------------------------------------------------------------
  MetricFamily busy =
      Family("grod_worker_busy_cycles_total",
             "TSC cycles the worker spent in RX polls that returned packets.",
             kCounter);
  MetricFamily polls =
      Family("grod_worker_cycles_total",
             "TSC cycles the worker spent polling, busy or not.", kCounter);
  MetricFamily ratio =
      Family("grod_worker_busy_ratio",
             "Share of polling cycles that found packets, since the previous "
             "scrape.",
             kGauge);
  for (const WorkerCounters& w : stats.workers) {
    const Labels wl = {{"lcore", std::to_string(w.lcore)}};
    AddCounter(busy, wl, w.busy_cycles);
    AddCounter(polls, wl, w.total_cycles);
    auto it = busy_ratio.find(w.lcore);
    AddGauge(ratio, wl, it == busy_ratio.end() ? 0.0 : it->second);
  }
  MetricFamily stalled = Family(
      "grod_worker_stalled",
      "1 while the worker lcore has stopped polling (no heartbeat for the "
      "stall timeout); health is NOT_SERVING meanwhile.",
      kGauge);
  MetricFamily stalls = Family(
      "grod_worker_stalls_total",
      "Times the worker lcore was found to have stopped polling.", kCounter);
  MetricFamily pressure =
      Family("grod_worker_pool_pressure_iterations_total",
             "Poll loop iterations that found the mbuf pool below the pressure "
             "threshold (and flushed the largest GRO holders).",
             kCounter);
  MetricFamily pressure_flows =
      Family("grod_worker_pool_pressure_flushed_flows_total",
             "Held flows flushed because the mbuf pool ran low.", kCounter);
  for (const WorkerCounters& w : stats.workers) {
    const Labels wl = {{"lcore", std::to_string(w.lcore)}};
    AddGauge(stalled, wl, w.stalled ? 1 : 0);
    AddCounter(stalls, wl, w.stalls);
    AddCounter(pressure, wl, w.pressure_iterations);
    AddCounter(pressure_flows, wl, w.pressure_flushed_flows);
  }
  for (MetricFamily* f :
       {&busy, &polls, &ratio, &stalled, &stalls, &pressure, &pressure_flows}) {
    out.push_back(std::move(*f));
  }

  // --- Mbuf pools ----------------------------------------------------------
  MetricFamily pool_size = Family("grod_mempool_size_mbufs",
                                  "Mbufs the pool was created with.", kGauge);
  MetricFamily pool_used =
      Family("grod_mempool_in_use_mbufs",
             "Mbufs taken from the pool (RX rings, held by GRO, in flight, in "
             "per-lcore caches).",
             kGauge);
  for (const MempoolCounters& m : stats.mempools) {
    const Labels pl = {{"pool", m.name}};
    AddGauge(pool_size, pl, static_cast<double>(m.size));
    AddGauge(pool_used, pl, static_cast<double>(m.in_use));
  }
  out.push_back(std::move(pool_size));
  out.push_back(std::move(pool_used));

  // A family without samples only adds HELP/TYPE noise to every scrape.
  std::erase_if(out, [](const MetricFamily& f) { return f.metric.empty(); });
  return out;
}

}  // namespace grod::metrics
