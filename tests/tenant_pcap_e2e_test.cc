// A capture in -> grod with tenants and route hints -> a capture out,
// checked per tenant and flow: payload streams equal, each destination in
// the mode its hint chose, checksums valid.  net_pcap has no TSO, so by
// default MERGE destinations are linked rather than merged (what software
// GSO would have cut back into the same frames): every frame leaves
// byte-identical.  With the port's merged_without_tso: SEGMENT_IN_SOFTWARE
// MERGE destinations are merged and re-segmented by software GSO to the
// original MSS, LIST/BYPASS ones still byte-identical.
#include <signal.h>

#include <algorithm>
#include <set>

#include "common/testing/wait_for.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/grod_process.h"

namespace grod {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;

constexpr size_t kMss = 1448;

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

uint32_t DstV4(const std::vector<uint8_t>& f) {
  size_t off = 14;
  if (f[12] == 0x81 && f[13] == 0x00) off += 4;
  if (f[off - 2] != 0x08 || f[off - 1] != 0x00) return 0;
  return (f[off + 16] << 24) | (f[off + 17] << 16) | (f[off + 18] << 8) |
         f[off + 19];
}

// Tenant "red" owns VLAN 10: MERGE by default, 10.2.0.0/16 -> LIST,
// 10.3.0.0/16 -> BYPASS. Tenant "blue" owns VLAN 20 and LISTs everything.
// Untagged traffic matches no tenant and bypasses GRO.
Frames TenantTraffic() {
  std::vector<FlowAddress> red_merge, red_list, red_bypass, blue, untagged;
  for (int i = 0; i < 4; ++i) {
    FlowAddress a;
    a.src_v4 = 0x0a630001 + i;
    a.sport = 20000 + i;
    a.vlan = 10;
    a.dst_v4 = 0x0a010001;
    red_merge.push_back(a);
    a.dst_v4 = 0x0a020001;
    red_list.push_back(a);
    a.dst_v4 = 0x0a030001;
    red_bypass.push_back(a);
    a.vlan = 20;
    a.dst_v4 = 0x0a010001;
    blue.push_back(a);
    a.vlan = 0;
    untagged.push_back(a);
  }
  Frames in;
  for (int seg = 0; seg < 20; ++seg) {
    for (const auto* group :
         {&red_merge, &red_list, &red_bypass, &blue, &untagged}) {
      for (const FlowAddress& a : *group) {
        in.push_back(TcpFrame(a, 1 + seg * kMss, kMss));
      }
    }
  }
  // UDP datagrams of one flow in the MERGE range (no USO: linked too).
  FlowAddress udp = red_merge[0];
  udp.dport = 4433;
  for (int i = 0; i < 16; ++i) in.push_back(UdpFrame(udp, i, 1200));
  return in;
}

// Red's MERGE destination (10.1.0.0/16 on VLAN 10).
bool RedMergeFrame(const std::vector<uint8_t>& f) {
  return f[12] == 0x81 && f[15] == 10 && (DstV4(f) >> 16) == 0x0a01;
}

// `in` through grod (one net_pcap port, forwarding to itself, `ports`
// added to its config; the tenants and hints above) into `out`; `metrics`
// is grod's last scrape.
void RunGrod(const Frames& in, const std::string& name,
             const std::string& ports, Frames* out, std::string* metrics_out) {
  const std::string in_pcap = TempPath(name + "_in.pcap");
  const std::string out_pcap = TempPath(name + "_out.pcap");
  ASSERT_TRUE(WritePcap(in_pcap, in).ok());
  std::string config = testing::TestEalArgsConfig(
      {"net_pcap0,rx_pcap=" + in_pcap + ",tx_pcap=" + out_pcap});
  config += ports;
  config += R"pb(
    idle_sleep_us: 50
    tenants {
      name: "red"
      selectors { vlan_id: 10 }
      default_mode: GRO_MODE_MERGE
      flush_policy {
        kind: FLUSH_KIND_TIMEOUT
        timeout { nanos: 200000 }
      }
    }
    tenants {
      name: "blue"
      selectors { vlan_id: 20 }
      default_mode: GRO_MODE_LIST
      flush_policy { kind: FLUSH_KIND_PER_BURST }
    }
    route_hints {
      tenant: "red"
      hints { prefix: "10.2.0.0/16" mode: GRO_MODE_LIST }
      hints { prefix: "10.3.0.0/16" mode: GRO_MODE_BYPASS }
    }
  )pb";
  absl::StatusOr<testing::GrodProcess> grod =
      testing::GrodProcess::Start(config);
  ASSERT_TRUE(grod.ok()) << grod.status();
  // The capture is replayed once: wait until grod received all of it and
  // transmitted as many frames (frames leave as they came, or merged and
  // cut back to their MSS by software GSO), nothing held.
  std::string metrics;
  const bool forwarded = testing::WaitFor([&] {
    absl::StatusOr<std::string> m =
        testing::HttpGet(grod->metrics_port(), "/metrics");
    if (!m.ok()) return false;
    metrics = *m;
    return testing::MetricSum(metrics, "grod_port_receive_packets_total") ==
               in.size() &&
           testing::MetricSum(metrics, "grod_port_transmit_packets_total") ==
               in.size() &&
           testing::MetricSum(metrics, "grod_gro_held_packets") == 0;
  });
  EXPECT_TRUE(forwarded) << metrics;
  absl::StatusOr<int> code = grod->Stop(SIGTERM);
  ASSERT_TRUE(code.ok() && *code == 0) << grod->log();

  *metrics_out = metrics;
  absl::StatusOr<Frames> read = testing::ReadPcap(out_pcap);
  ASSERT_TRUE(read.ok()) << read.status();
  *out = *std::move(read);
}

double Sample(const std::string& metrics, const std::string& needle) {
  const size_t at = metrics.find(needle);
  if (at == std::string::npos) return -1.0;
  const size_t end = metrics.find('\n', at);
  return std::stod(
      metrics.substr(at + needle.size(), end - at - needle.size()));
}

TEST(TenantPcapE2eTest, ModesPerRouteHintAndTenant) {
  const Frames in = TenantTraffic();
  Frames out_frames;
  std::string metrics;
  RunGrod(in, "tenants", "", &out_frames, &metrics);
  if (HasFatalFailure()) return;
  const Frames* out = &out_frames;

  // 1. Per flow, the payload stream out equals the stream in; checksums ok.
  testing::FlowStreams want = testing::SplitFlows(in);
  testing::FlowStreams got = testing::SplitFlows(*out);
  EXPECT_EQ(testing::DiffStreams(want, got), "");
  EXPECT_EQ(got.bad_checksums, 0);

  // 2. Every destination -- red's MERGE (linked for want of TSO), LIST and
  //    BYPASS, blue (LIST), untagged (no tenant): the very same frames, as
  //    many per flow.
  EXPECT_EQ(got.frames, want.frames);
  std::multiset<std::vector<uint8_t>> a(in.begin(), in.end()),
      b(out->begin(), out->end());
  EXPECT_TRUE(a == b) << "output is not byte-identical";

  // 3. Red's MERGE destination by itself (10.1.0.0/16 on VLAN 10): the
  //    same frames in the same order per flow.
  Frames in_merge, out_merge;
  std::copy_if(in.begin(), in.end(), std::back_inserter(in_merge),
               RedMergeFrame);
  std::copy_if(out->begin(), out->end(), std::back_inserter(out_merge),
               RedMergeFrame);
  ASSERT_EQ(in_merge.size(), 4u * 20 + 16);
  EXPECT_EQ(testing::DiffStreams(testing::SplitFlows(in_merge),
                                 testing::SplitFlows(out_merge)),
            "");
  Frames sorted_in = in_merge, sorted_out = out_merge;
  std::sort(sorted_in.begin(), sorted_in.end());
  std::sort(sorted_out.begin(), sorted_out.end());
  EXPECT_TRUE(sorted_in == sorted_out);

  // 4. The counters say the work happened where it should.
  auto sample = [&](const std::string& needle) {
    return Sample(metrics, needle);
  };
  // Red's MERGE traffic (80 TCP segments, 16 UDP datagrams) was linked,
  // not merged: no software GSO.
  EXPECT_EQ(sample("grod_gro_merge_as_list_packets_total{tenant=\"red\"} "),
            4 * 20 + 16)
      << metrics;
  EXPECT_EQ(sample("grod_gro_segments_merged_total{tenant=\"red\"} "), 0);
  EXPECT_GT(sample("grod_gro_segments_listed_total{tenant=\"red\"} "), 0);
  EXPECT_GT(sample("grod_gro_segments_listed_total{tenant=\"blue\"} "), 0);
  EXPECT_EQ(sample("grod_gro_segments_merged_total{tenant=\"blue\"} "), 0);
  EXPECT_EQ(sample("grod_gro_merge_as_list_packets_total{tenant=\"blue\"} "),
            0);
  EXPECT_EQ(sample("grod_port_gso_segments_total{port=\"net_pcap0\"} "), 0);
}

// The same traffic with the port set to segment merged packets in software:
// red's MERGE destination is really merged (checksums verified, segments
// coalesced) and cut back by software GSO -- each TCP segment at most the
// MSS, each UDP datagram its original size, payload streams intact -- while
// LIST and BYPASS destinations still leave byte-identical.
TEST(TenantPcapE2eTest, SegmentInSoftwareMergesRedsMergeDestination) {
  const Frames in = TenantTraffic();
  Frames out;
  std::string metrics;
  RunGrod(in, "tenants_sw", R"pb(ports {
                                   device: "net_pcap0"
                                   merged_without_tso: SEGMENT_IN_SOFTWARE
                                 })pb",
          &out, &metrics);
  if (HasFatalFailure()) return;

  testing::FlowStreams want = testing::SplitFlows(in);
  testing::FlowStreams got = testing::SplitFlows(out);
  EXPECT_EQ(testing::DiffStreams(want, got), "");
  EXPECT_EQ(got.bad_checksums, 0);

  // LIST and BYPASS destinations, blue (LIST) and untagged (no tenant): the
  // very same frames, in the same order per flow.
  auto untouched = [](const std::vector<uint8_t>& f) {
    return !RedMergeFrame(f);
  };
  Frames in_same, out_same;
  std::copy_if(in.begin(), in.end(), std::back_inserter(in_same), untouched);
  std::copy_if(out.begin(), out.end(), std::back_inserter(out_same), untouched);
  EXPECT_EQ(testing::SplitFlows(out_same).frames,
            testing::SplitFlows(in_same).frames);
  std::multiset<std::vector<uint8_t>> a(in_same.begin(), in_same.end()),
      b(out_same.begin(), out_same.end());
  EXPECT_TRUE(a == b) << "LIST/BYPASS output is not byte-identical";

  // MERGE destinations went through software GSO: every TCP segment is
  // back at the MSS, every UDP datagram at its original size.
  for (const auto& [flow, max] : got.max_payload) {
    if (flow.find("udp") != std::string::npos) {
      EXPECT_EQ(max, 1200u) << flow;
    } else {
      EXPECT_LE(max, kMss) << flow;
    }
  }
  EXPECT_EQ(out.size(), in.size());

  EXPECT_GT(Sample(metrics, "grod_gro_segments_merged_total{tenant=\"red\"} "),
            0)
      << metrics;
  EXPECT_EQ(
      Sample(metrics, "grod_gro_merge_as_list_packets_total{tenant=\"red\"} "),
      0);
  EXPECT_GT(Sample(metrics, "grod_gro_segments_listed_total{tenant=\"red\"} "),
            0);
  EXPECT_EQ(Sample(metrics, "grod_gro_segments_merged_total{tenant=\"blue\"} "),
            0);
  EXPECT_GT(
      Sample(metrics, "grod_port_gso_segments_total{port=\"net_pcap0\"} "), 0);
}

}  // namespace
}  // namespace grod
