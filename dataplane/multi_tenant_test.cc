// The DPDK data plane in-process, over ring-backed ports: tenants, route
// hints, flush policies, egress GSO/unlink, config churn under load and
// tenant isolation. Every test checks that all mbufs come back.
#include <rte_ethdev.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "absl/time/clock.h"
#include "common/testing/wait_for.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/ring_data_plane_fixture.h"
#include "dataplane/testing/ring_port.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;

constexpr size_t kMss = 1448;

IpPrefix V4Prefix(uint32_t addr, uint8_t len) {
  IpPrefix p;
  p.addr[0] = addr >> 24;
  p.addr[1] = addr >> 16;
  p.addr[2] = addr >> 8;
  p.addr[3] = addr;
  p.length = len;
  return p;
}

FlowAddress Flow(int i, uint32_t dst, uint16_t vlan = 0) {
  FlowAddress a;
  a.src_v4 = 0x0a000001 + i;
  a.dst_v4 = dst;
  a.sport = 30000 + i;
  a.vlan = vlan;
  return a;
}

// `segments` MSS-sized segments of each flow, interleaved round-robin.
Frames TcpBulk(const std::vector<FlowAddress>& flows, int segments,
               uint32_t first_seq = 1) {
  Frames frames;
  for (int s = 0; s < segments; ++s) {
    for (const FlowAddress& f : flows) {
      frames.push_back(TcpFrame(f, first_seq + s * kMss, kMss));
    }
  }
  return frames;
}

class MultiTenantTest : public testing::RingDataPlaneTest {
 protected:
  TenantSpec Tenant(const std::string& name, GroMode mode,
                    FlushKind kind = FlushKind::kPerBurst) {
    TenantSpec t;
    t.name = name;
    t.selectors.push_back({port_->port_id(), std::nullopt, std::nullopt});
    t.default_mode = mode;
    t.flush.kind = kind;
    t.flush.timeout_ns = 50'000;
    return t;
  }

  // A copy of the tenant's counters; `tenant` is empty if there is none.
  static TenantCounters Counters(const StatsSnapshot& s,
                                 const std::string& tenant) {
    for (const TenantCounters& t : s.tenants) {
      if (t.tenant == tenant) return t;
    }
    return {};
  }
};

TEST_F(MultiTenantTest, NoTenantForwardsUntouched) {
  const Frames in = SampleFrames();
  port_->Inject(in);
  Frames out = Forwarded();
  EXPECT_EQ(out, in);  // same bytes, same order
  StatsSnapshot s = dp_->Stats();
  const TenantCounters u = Counters(s, "_unmatched");
  ASSERT_EQ(u.tenant, "_unmatched");
  EXPECT_EQ(u.packets_in, in.size());
  EXPECT_EQ(s.ports[0].rx_packets, in.size());
  EXPECT_EQ(s.ports[0].tx_packets, in.size());
}

// The ring port has no TSO: MERGE would be cut back into these frames by
// software GSO, so the segments are linked instead and leave as they came
// (merge_as_list_test.cc has the TSO side).
TEST_F(MultiTenantTest, MergeTowardsAPortWithoutTsoLeavesTheFramesAsTheyCame) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue", GroMode::kMerge)).ok());
  std::vector<FlowAddress> flows;
  for (int i = 0; i < 4; ++i) flows.push_back(Flow(i, 0x0a640001));
  const Frames in = TcpBulk(flows, 16);
  port_->Inject(in);
  Frames out = Forwarded();

  auto want = SplitFlows(in), got = SplitFlows(out);
  EXPECT_EQ(DiffStreams(want, got), "");
  EXPECT_EQ(got.bad_checksums, 0);
  for (const auto& [flow, max] : got.max_payload) EXPECT_LE(max, kMss) << flow;
  ASSERT_EQ(out.size(), in.size());
  Frames sorted_in = in, sorted_out = out;
  std::sort(sorted_in.begin(), sorted_in.end());
  std::sort(sorted_out.begin(), sorted_out.end());
  EXPECT_TRUE(sorted_out == sorted_in) << "a frame changed";

  StatsSnapshot s = dp_->Stats();
  const TenantCounters c = Counters(s, "blue");
  ASSERT_EQ(c.tenant, "blue");
  EXPECT_EQ(c.packets_in, in.size());
  EXPECT_EQ(c.merged_packets_out, 0u);
  EXPECT_EQ(c.merge_as_list_packets, in.size());
  EXPECT_GT(c.segments_listed, in.size() / 2);
  EXPECT_EQ(s.ports[0].gso_segments, 0u);
}

TEST_F(MultiTenantTest, RouteHintsPickListAndBypassPerDestination) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue", GroMode::kMerge)).ok());
  ASSERT_TRUE(
      dp_->AddRouteHints("blue", {{V4Prefix(0x0a650000, 16), GroMode::kList},
                                  {V4Prefix(0x0a650200, 24), GroMode::kBypass}})
          .ok());
  const FlowAddress merge = Flow(1, 0x0a640001);   // no hint: default MERGE
  const FlowAddress list = Flow(2, 0x0a650101);    // 10.101.0.0/16 -> LIST
  const FlowAddress bypass = Flow(3, 0x0a650202);  // /24 inside it -> BYPASS
  const Frames in = TcpBulk({merge, list, bypass}, 12);
  port_->Inject(in);
  Frames out = Forwarded();

  auto want = SplitFlows(in), got = SplitFlows(out);
  EXPECT_EQ(DiffStreams(want, got), "");
  // LIST and BYPASS output is byte-identical to the input, in order.
  Frames in_untouched, out_untouched;
  auto untouched = [](const std::vector<uint8_t>& f) {
    return f[30] == 0x0a && f[31] == 0x65;  // IPv4 dst 10.101.x.x
  };
  for (const auto& f : in)
    if (untouched(f)) in_untouched.push_back(f);
  for (const auto& f : out)
    if (untouched(f)) out_untouched.push_back(f);
  EXPECT_EQ(out_untouched.size(), in_untouched.size());
  std::sort(in_untouched.begin(), in_untouched.end());
  std::sort(out_untouched.begin(), out_untouched.end());
  EXPECT_EQ(out_untouched, in_untouched);

  const StatsSnapshot before = dp_->Stats();
  const TenantCounters c = Counters(before, "blue");
  ASSERT_EQ(c.tenant, "blue");
  EXPECT_GT(c.list_packets_out, 0u);
  EXPECT_GT(c.segments_listed, 0u);
  EXPECT_EQ(c.bypass_packets, 12u);
  // The default MERGE, linked: the ring port has no TSO.
  EXPECT_EQ(c.merge_as_list_packets, 12u);

  // Removing the LIST hint sends that destination back to the default.
  ASSERT_TRUE(dp_->RemoveRouteHints("blue", {V4Prefix(0x0a650000, 16)}).ok());
  port_->Inject(TcpBulk({list}, 8, 1 + 12 * kMss));
  Forwarded();
  const StatsSnapshot now = dp_->Stats();
  const TenantCounters after = Counters(now, "blue");
  EXPECT_EQ(after.merge_as_list_packets, c.merge_as_list_packets + 8)
      << "in " << after.packets_in << " bypass " << after.bypass_packets
      << " listed " << after.segments_listed;
}

TEST_F(MultiTenantTest, TimeoutPolicyHoldsAndDeleteFlushesHeldPackets) {
  TenantSpec t = Tenant("slow", GroMode::kMerge, FlushKind::kTimeout);
  t.flush.timeout_ns = 10'000'000'000;  // 10 s: only a flush can free them
  ASSERT_TRUE(dp_->UpsertTenant(t).ok());
  const Frames in = TcpBulk({Flow(1, 0x0a640001)}, 8);
  port_->Inject(in);
  EXPECT_TRUE(Forwarded(/*held=*/8).empty()) << "held, not sent";
  const TenantCounters c = Counters(dp_->Stats(), "slow");
  EXPECT_EQ(c.held_packets, 8u);
  EXPECT_EQ(c.held_flows, 1u);

  ASSERT_TRUE(dp_->RemoveTenant("slow").ok());
  Frames out = Forwarded();
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
}

TEST_F(MultiTenantTest, AdaptiveFlushesAsSoonAsTheQueueIsIdle) {
  TenantSpec t = Tenant("adaptive", GroMode::kMerge, FlushKind::kAdaptive);
  t.flush.timeout_ns = 10'000'000'000;
  ASSERT_TRUE(dp_->UpsertTenant(t).ok());
  const Frames in = TcpBulk({Flow(1, 0x0a640001)}, 8);
  port_->Inject(in);
  // Well before the 10 s timeout could flush them.
  Frames out = port_->CollectAtLeast(in.size(), 5000);
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
}

TEST_F(MultiTenantTest, TimeoutPolicyFlushesAfterTheTimeout) {
  TenantSpec t = Tenant("timed", GroMode::kMerge, FlushKind::kTimeout);
  t.flush.timeout_ns = 100'000'000;  // 100 ms
  ASSERT_TRUE(dp_->UpsertTenant(t).ok());
  const Frames in = TcpBulk({Flow(1, 0x0a640001)}, 8);
  const absl::Time injected = absl::Now();
  port_->Inject(in);
  // The worker receives them after `injected` and holds them 100 ms from
  // then: whenever the first one is seen, that is at least 100 ms later,
  // however slow the machine.
  Frames out;
  absl::Time first_seen;
  ASSERT_TRUE(::grod::testing::WaitFor([&] {
    for (auto& f : port_->Collect()) {
      if (out.empty()) first_seen = absl::Now();
      out.push_back(std::move(f));
    }
    return out.size() >= in.size();
  })) << out.size()
      << " of " << in.size() << " frames";
  EXPECT_GE(first_seen - injected, absl::Milliseconds(100))
      << "flushed before the timeout";
  for (auto& f : Forwarded()) out.push_back(std::move(f));
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  EXPECT_GT(Counters(dp_->Stats(), "timed").flushes.at("timeout"), 0u);
}

TEST_F(MultiTenantTest, VlanSelectorsSeparateTenantsAndUnmatchedDefault) {
  TenantSpec a = Tenant("a", GroMode::kMerge);
  a.selectors = {{std::nullopt, uint16_t{10}, std::nullopt}};
  TenantSpec b = Tenant("b", GroMode::kList);
  b.selectors = {{port_->port_id(), uint16_t{20}, std::nullopt}};
  ASSERT_TRUE(dp_->UpsertTenant(a).ok());
  ASSERT_TRUE(dp_->UpsertTenant(b).ok());
  // An identical selector for a third tenant is refused, changing nothing.
  TenantSpec clash = Tenant("c", GroMode::kMerge);
  clash.selectors = a.selectors;
  EXPECT_EQ(dp_->UpsertTenant(clash).code(),
            absl::StatusCode::kFailedPrecondition);

  port_->Inject(TcpBulk({Flow(1, 0x0a640001, 10)}, 4));
  port_->Inject(TcpBulk({Flow(2, 0x0a640001, 20)}, 4));
  port_->Inject(TcpBulk({Flow(3, 0x0a640001, 30)}, 4));
  Forwarded();
  StatsSnapshot s = dp_->Stats();
  EXPECT_EQ(Counters(s, "a").packets_in, 4u);
  EXPECT_EQ(Counters(s, "b").packets_in, 4u);
  EXPECT_EQ(Counters(s, "_unmatched").packets_in, 4u);
  EXPECT_EQ(Counters(s, "c").tenant, "");

  // Unmatched traffic can go to a named tenant instead of bypassing GRO.
  ASSERT_TRUE(dp_->SetUnmatchedTenant("a").ok());
  port_->Inject(TcpBulk({Flow(3, 0x0a640001, 30)}, 4, 1 + 4 * kMss));
  Forwarded();
  EXPECT_EQ(Counters(dp_->Stats(), "a").packets_in, 8u);
}

TEST_F(MultiTenantTest, OneTenantFloodingFlowsDoesNotDisturbAnother) {
  TenantSpec noisy = Tenant("noisy", GroMode::kMerge);
  noisy.selectors = {{std::nullopt, uint16_t{10}, std::nullopt}};
  noisy.max_flows = 64;
  noisy.max_held_packets = 256;
  // Held until the flows are complete, so every quiet segment can merge
  // whatever burst it arrived in.
  TenantSpec quiet = Tenant("quiet", GroMode::kMerge, FlushKind::kTimeout);
  quiet.flush.timeout_ns = 300'000'000;
  quiet.selectors = {{std::nullopt, uint16_t{20}, std::nullopt}};
  ASSERT_TRUE(dp_->UpsertTenant(noisy).ok());
  ASSERT_TRUE(dp_->UpsertTenant(quiet).ok());

  std::vector<FlowAddress> quiet_flows;
  for (int i = 0; i < 8; ++i) quiet_flows.push_back(Flow(i, 0x0a640001, 20));
  Frames in;
  int noisy_flow = 1000;
  for (const auto& f : TcpBulk(quiet_flows, 16)) {
    in.push_back(f);
    // Between every quiet segment, two segments of brand-new noisy flows.
    for (int k = 0; k < 2; ++k) {
      in.push_back(TcpFrame(Flow(noisy_flow++, 0x0a640002, 10), 1, 200));
    }
  }
  port_->Inject(in);
  Frames out = Forwarded();
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");

  StatsSnapshot s = dp_->Stats();
  const TenantCounters q = Counters(s, "quiet");
  EXPECT_EQ(q.packets_in, 8u * 16);
  EXPECT_EQ(q.flushes.count("table_full"), 0u);
  // Every quiet segment was aggregated (linked: the ring port has no TSO),
  // as if it were alone.
  EXPECT_EQ(q.segments_listed, q.packets_in);
  EXPECT_EQ(q.merge_as_list_packets, q.packets_in);
  EXPECT_EQ(Counters(s, "noisy").packets_in, 8u * 16 * 2);
}

TEST_F(MultiTenantTest, ManyTenantsWithHintsFitAndTablesGrow) {
  // 100 tenants with a few IPv4 and IPv6 hints each: small RIB-backed
  // tables, so they fit in the test's DPDK heap many times over.
  for (int i = 0; i < 100; ++i) {
    TenantSpec t = Tenant("t" + std::to_string(i), GroMode::kMerge);
    t.selectors = {{std::nullopt, uint16_t(100 + i), std::nullopt}};
    ASSERT_TRUE(dp_->UpsertTenant(t).ok()) << i;
    std::vector<RouteHint> hints;
    for (int k = 0; k < 4; ++k) {
      hints.push_back({V4Prefix(0x0a000000 + (k << 16), 16), GroMode::kList});
      IpPrefix v6;
      v6.is_v6 = true;
      v6.addr = {0x20, 0x01, 0x0d, 0xb8, 0, uint8_t(k)};
      v6.length = 48;
      hints.push_back({v6, GroMode::kBypass});
    }
    ASSERT_TRUE(dp_->AddRouteHints(t.name, hints).ok()) << i;
  }
  // One tenant grows past the small-table limit: its tables are rebuilt as
  // DIR-24-8 with every hint (old and new) still in force.
  TenantSpec big = Tenant("big", GroMode::kMerge);
  big.selectors = {{std::nullopt, uint16_t{7}, std::nullopt}};
  ASSERT_TRUE(dp_->UpsertTenant(big).ok());
  ASSERT_TRUE(
      dp_->AddRouteHints("big", {{V4Prefix(0x0b000000, 8), GroMode::kList}})
          .ok());
  std::vector<RouteHint> many;
  for (uint32_t k = 0; k < 5000; ++k) {
    many.push_back({V4Prefix(0x0c000000 + (k << 8), 24), GroMode::kBypass});
  }
  ASSERT_TRUE(dp_->AddRouteHints("big", many).ok());

  const FlowAddress listed = Flow(1, 0x0b010101, 7);  // 11/8 -> LIST
  const FlowAddress bypass = Flow(2, 0x0c001301, 7);  // 12.0.19/24 -> BYPASS
  const FlowAddress merged = Flow(3, 0x0d000001, 7);  // no hint -> MERGE
  const Frames in = TcpBulk({listed, bypass, merged}, 8);
  port_->Inject(in);
  Frames out = Forwarded();
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  const TenantCounters c = Counters(dp_->Stats(), "big");
  // The MERGE flow is linked too (the ring port has no TSO).
  EXPECT_EQ(c.segments_listed, 16u);
  EXPECT_EQ(c.bypass_packets, 8u);
  EXPECT_EQ(c.merge_as_list_packets, 8u);
}

// Towards the ring port (no TSO) MERGE links, so nothing is verified: the
// corrupted segment leaves as it came, inside its flow, for the receiver to
// drop.  Towards a TSO port it is refused for merging (merge_as_list_test).
TEST_F(MultiTenantTest, CorruptedSegmentIsNeverMergedIntoAValidChecksum) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue", GroMode::kMerge)).ok());
  Frames in = TcpBulk({Flow(1, 0x0a640001)}, 16);
  in[5][100] ^= 0x40;  // one payload bit flipped on the wire
  port_->Inject(in);
  Frames out = Forwarded();
  auto got = SplitFlows(out);
  EXPECT_EQ(DiffStreams(SplitFlows(in), got), "");
  // The bad segment left as it came (still failing its checksum), the
  // others too, all linked, none merged.
  EXPECT_EQ(got.bad_checksums, 1);
  EXPECT_NE(std::find(out.begin(), out.end(), in[5]), out.end());
  const TenantCounters c = Counters(dp_->Stats(), "blue");
  EXPECT_EQ(c.passthrough.count("bad_checksum"), 0u) << "nothing verified";
  EXPECT_EQ(c.segments_merged, 0u);
  EXPECT_EQ(c.merge_as_list_packets, in.size());
}

// The same ring port configured merged_without_tso: SEGMENT_IN_SOFTWARE
// (PortSpec::segment_merged_in_software): MERGE merges again, verifying
// checksums, and egress's software GSO cuts each merged packet back into
// MSS segments -- MERGE's path before linking became the default.
class MultiTenantSegmentInSoftwareTest : public MultiTenantTest {
 protected:
  void Configure(RuntimeConfig& rc) override {
    for (PortSpec& p : rc.ports) p.segment_merged_in_software = true;
  }
};

TEST_F(MultiTenantSegmentInSoftwareTest, MergeThenSoftwareGsoRestoresMss) {
  const std::vector<PortInfo> ports = dp_->Ports();
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_TRUE(ports[0].capabilities.segment_merged_in_software)
      << "ListPorts shows the setting";
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue", GroMode::kMerge)).ok());
  std::vector<FlowAddress> flows;
  for (int i = 0; i < 4; ++i) flows.push_back(Flow(i, 0x0a640001));
  const Frames in = TcpBulk(flows, 16);
  port_->Inject(in);
  const Frames out = Forwarded();
  auto want = SplitFlows(in), got = SplitFlows(out);
  EXPECT_EQ(DiffStreams(want, got), "");
  EXPECT_EQ(got.bad_checksums, 0);
  for (const auto& [flow, max] : got.max_payload) EXPECT_LE(max, kMss) << flow;
  EXPECT_EQ(out.size(), in.size());  // GSO cut each merge back into MSS

  const StatsSnapshot s = dp_->Stats();
  const TenantCounters c = Counters(s, "blue");
  EXPECT_EQ(c.packets_in, in.size());
  EXPECT_GT(c.merged_packets_out, 0u);
  EXPECT_GT(c.segments_merged, in.size() / 2);
  EXPECT_EQ(c.merge_as_list_packets, 0u);
  EXPECT_GT(s.ports[0].gso_segments, 0u);
}

TEST_F(MultiTenantSegmentInSoftwareTest, CorruptedSegmentIsNotMergedIn) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("blue", GroMode::kMerge)).ok());
  Frames in = TcpBulk({Flow(1, 0x0a640001)}, 16);
  in[5][100] ^= 0x40;  // one payload bit flipped on the wire
  port_->Inject(in);
  Frames out = Forwarded();
  auto got = SplitFlows(out);
  EXPECT_EQ(DiffStreams(SplitFlows(in), got), "");
  // The bad segment left as it came (still failing its checksum); the
  // others were merged around it and re-segmented with valid checksums.
  EXPECT_EQ(got.bad_checksums, 1);
  EXPECT_NE(std::find(out.begin(), out.end(), in[5]), out.end());
  const TenantCounters c = Counters(dp_->Stats(), "blue");
  EXPECT_EQ(c.passthrough.at("bad_checksum"), 1u);
  EXPECT_GT(c.segments_merged, 10u);
  EXPECT_EQ(c.merge_as_list_packets, 0u);
}

TEST_F(MultiTenantTest, HundredThousandIpv6HintsFit) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("v6", GroMode::kMerge)).ok());
  std::vector<RouteHint> hints;
  for (uint32_t k = 0; k < 100000; ++k) {
    IpPrefix p;
    p.is_v6 = true;
    p.addr = {0x20,      0x01, 0x0d, 0xb8, uint8_t(k >> 16), uint8_t(k >> 8),
              uint8_t(k)};
    p.length = 64;
    hints.push_back({p, k == 0 ? GroMode::kList : GroMode::kBypass});
  }
  absl::Status s = dp_->AddRouteHints("v6", hints);
  ASSERT_TRUE(s.ok()) << s;
  // One more hint on the big tenant is an incremental change.
  IpPrefix extra = hints[7].prefix;
  extra.length = 72;
  ASSERT_TRUE(dp_->AddRouteHints("v6", {{extra, GroMode::kMerge}}).ok());

  FlowAddress listed;  // 2001:db8::2, in 2001:db8::/64 -> LIST
  listed.v6 = true;
  const Frames in = TcpBulk({listed}, 8);
  port_->Inject(in);
  Forwarded();
  EXPECT_EQ(Counters(dp_->Stats(), "v6").segments_listed, 8u);
}

TEST_F(MultiTenantTest, ConfigChurnUnderLoadLosesAndReordersNothing) {
  ASSERT_TRUE(dp_->UpsertTenant(Tenant("main", GroMode::kMerge)).ok());
  std::vector<FlowAddress> flows;
  for (int i = 0; i < 32; ++i) {
    flows.push_back(Flow(i, 0x0a640000 + (i % 8) * 256 + 1));  // 8 /24s
  }
  const Frames in = TcpBulk(flows, 400);  // 12 800 segments

  std::atomic<bool> done{false};
  std::thread sender([&] {
    for (size_t i = 0; i < in.size(); i += 64) {
      Frames chunk(in.begin() + i, in.begin() + std::min(in.size(), i + 64));
      port_->Inject(chunk);
      // sleep-ok: paces the sender so config changes land between bursts
      // (the test waits for the result by counters, not by this).
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    done = true;
  });

  Frames out;
  std::mt19937 rng(7);
  int changes = 0;
  const GroMode modes[] = {GroMode::kMerge, GroMode::kList, GroMode::kBypass};
  const FlushKind kinds[] = {FlushKind::kPerBurst, FlushKind::kTimeout,
                             FlushKind::kAdaptive};
  while (!done || changes < 2000) {
    const uint32_t net = 0x0a640000 + (rng() % 8) * 256;
    absl::Status s;
    switch (rng() % 6) {
      case 0:
      case 1:
        s = dp_->AddRouteHints("main", {{V4Prefix(net, 24), modes[rng() % 3]}});
        break;
      case 2:
        s = dp_->RemoveRouteHints("main", {V4Prefix(net, 24)});
        break;
      case 3: {  // policy and limits (rebuilds the contexts)
        TenantSpec t = Tenant("main", modes[rng() % 2], kinds[rng() % 3]);
        t.flush.max_segments = 8 + rng() % 57;
        s = dp_->UpsertTenant(t);
        break;
      }
      case 4: {  // traffic moves between tenants
        TenantSpec other = Tenant("other", GroMode::kList);
        s = dp_->RemoveTenant("main");
        if (s.ok()) s = dp_->UpsertTenant(other);
        if (s.ok()) s = dp_->RemoveTenant("other");
        if (s.ok()) s = dp_->UpsertTenant(Tenant("main", GroMode::kMerge));
        break;
      }
      case 5:
        s = dp_->SetUnmatchedTenant(rng() % 2 ? "main" : "");
        break;
    }
    ASSERT_TRUE(s.ok()) << s;
    ++changes;
    for (auto& f : port_->Collect()) out.push_back(std::move(f));
  }
  sender.join();
  for (auto& f : Forwarded()) out.push_back(std::move(f));

  auto want = SplitFlows(in), got = SplitFlows(out);
  EXPECT_EQ(got.streams.size(), want.streams.size());
  for (const auto& [flow, bytes] : want.streams) {
    EXPECT_TRUE(got.streams[flow] == bytes)
        << flow << ": payload stream differs (loss, duplication or reorder)";
  }
  EXPECT_EQ(got.bad_checksums, 0);
  EXPECT_GE(changes, 2000);
}

}  // namespace
}  // namespace grod::dataplane
