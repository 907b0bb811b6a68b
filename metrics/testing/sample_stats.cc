#include "metrics/testing/sample_stats.h"

#include <string>

#include "common/segment_buckets.h"

namespace grod::metrics::testing {

StatsSnapshot SampleStats(uint64_t scale) {
  StatsSnapshot s;
  s.config_generation = 3;
  for (uint16_t id = 0; id < 2; ++id) {
    PortCounters p;
    p.port_id = id;
    p.name = "net_ring" + std::to_string(id);
    p.rx_packets = 100 * scale;
    p.rx_bytes = 150000 * scale;
    p.tx_packets = 40 * scale;
    p.tx_bytes = 149000 * scale;
    p.tx_dropped = 1 * scale;
    p.rx_missed = 2 * scale;
    p.gso_segments = 3 * scale;
    p.rx_nombuf = 4 * scale;
    p.rx_errors = 5 * scale;
    p.tx_errors = 6 * scale;
    p.ip_fragments = 7 * scale;
    p.tx_drops["tx_ring_full"] = 1 * scale;
    s.ports.push_back(p);
  }
  for (const char* name : {"blue", "red"}) {
    TenantCounters t;
    t.tenant = name;
    t.packets_in = 100 * scale;
    t.bytes_in = 150000 * scale;
    // Outputs by kind: 10 merged (6 segments each), 5 listed (4 each),
    // 2 single, 5 bypassed, 3 passed through = 25.
    t.merged_packets_out = 10 * scale;
    t.list_packets_out = 5 * scale;
    t.single_packets_out = 2 * scale;
    t.bypass_packets = 5 * scale;
    t.packets_out = 25 * scale;
    t.segments_merged = 60 * scale;
    t.segments_listed = 20 * scale;
    t.merge_as_list_packets = 4 * scale;
    t.held_flows = 2;
    t.held_packets = 7;
    t.segments_per_output.assign(kSegmentBucketCount, 0);
    t.segments_per_output[SegmentBucketIndex(1)] = 10 * scale;
    t.segments_per_output[SegmentBucketIndex(4)] = 5 * scale;
    t.segments_per_output[SegmentBucketIndex(6)] = 10 * scale;
    t.flushes = {{"burst_end", 8 * scale}, {"timeout", 2 * scale}};
    t.passthrough = {
        {"bypass", 5 * scale}, {"not_ip", 1 * scale}, {"truncated", 2 * scale}};
    s.tenants.push_back(t);
  }
  for (uint32_t lcore : {1u, 2u}) {
    WorkerCounters w;
    w.lcore = lcore;
    w.busy_cycles = 25 * scale * lcore;
    w.total_cycles = 100 * scale * lcore;
    w.stalled = lcore == 2;
    w.stalls = lcore == 2 ? 1 : 0;
    w.pressure_iterations = 7 * scale;
    w.pressure_flushed_flows = 70 * scale;
    s.workers.push_back(w);
  }
  s.tsc_hz = 100;  // lcore N: N * scale seconds polling, a quarter busy
  s.mempools.push_back({"grod_pkts", 16383, 4000 + scale});
  s.mempools.push_back({"grod_gso_ind", 16383, scale});
  return s;
}

}  // namespace grod::metrics::testing
