// Tenant isolation on the DPDK data plane (ring-backed ports): a change to
// one tenant's selectors, policy or quotas never flushes what another
// tenant holds, unless traffic that tenant held may move to another one --
// and then it is flushed first, so no flow is reordered.
#include <rte_ethdev.h>

#include "common/testing/wait_for.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/ring_data_plane_fixture.h"
#include "dataplane/testing/ring_port.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;

constexpr size_t kMss = 1448;
constexpr uint64_t kLongHoldNs = 30'000'000'000;  // only a flush frees them

// `segments` MSS-sized segments of `flows` flows on `vlan`, interleaved,
// starting at segment `first`.
Frames Segments(int flows, uint16_t vlan, int first, int segments) {
  Frames frames;
  for (int s = first; s < first + segments; ++s) {
    for (int i = 0; i < flows; ++i) {
      FlowAddress a;
      a.src_v4 = 0x0a000001 + i;
      a.dst_v4 = 0x0a640000 + vlan;
      a.sport = 30000 + i;
      a.vlan = vlan;
      frames.push_back(TcpFrame(a, 1 + s * kMss, kMss));
    }
  }
  return frames;
}

Frames Concat(const Frames& a, const Frames& b) {
  Frames out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

class IsolationTest : public testing::RingDataPlaneTest {
 protected:
  // A MERGE tenant on VLAN `vlan` of the test port (nullopt: all VLANs)
  // holding flows for 30 s.
  TenantSpec Holder(const std::string& name, std::optional<uint16_t> vlan) {
    TenantSpec t;
    t.name = name;
    if (vlan)
      t.selectors.push_back({port_->port_id(), vlan, std::nullopt});
    else
      t.selectors.push_back({port_->port_id(), std::nullopt, std::nullopt});
    t.default_mode = GroMode::kMerge;
    t.flush.kind = FlushKind::kTimeout;
    t.flush.timeout_ns = kLongHoldNs;
    return t;
  }

  TenantCounters Counters(const std::string& tenant) {
    for (const TenantCounters& t : dp_->Stats().tenants) {
      if (t.tenant == tenant) return t;
    }
    ADD_FAILURE() << "no tenant " << tenant;
    return {};
  }

  // Waits until the tenant holds `packets` (what was injected arrived).
  void WaitHeld(const std::string& tenant, uint64_t packets) {
    ::grod::testing::WaitFor(
        [&] { return Counters(tenant).held_packets == packets; });
    ASSERT_EQ(Counters(tenant).held_packets, packets) << tenant;
  }

  // Config flushes of the tenant so far (0 if none).
  uint64_t ConfigFlushes(const std::string& tenant) {
    const TenantCounters c = Counters(tenant);
    auto it = c.flushes.find("config");
    return it == c.flushes.end() ? 0 : it->second;
  }

  // Switches the tenants to PER_BURST, so everything held leaves, and
  // returns what came out.
  Frames Release(const std::vector<TenantSpec>& tenants) {
    for (TenantSpec t : tenants) {
      t.flush.kind = FlushKind::kPerBurst;
      EXPECT_TRUE(dp_->UpsertTenant(t).ok());
    }
    return Forwarded();
  }
};

TEST_F(IsolationTest, ChangingOneTenantLeavesAnothersHeldFlowsAlone) {
  TenantSpec a = Holder("a", 10);
  const TenantSpec b = Holder("b", 20);
  ASSERT_TRUE(dp_->UpsertTenant(a).ok());
  ASSERT_TRUE(dp_->UpsertTenant(b).ok());
  const Frames b_first = Segments(8, 20, 0, 4);
  port_->Inject(b_first);
  WaitHeld("b", b_first.size());

  // A's selector, policy and quotas change; a tenant comes and goes;
  // unmatched traffic goes to A. None of it moves traffic B holds.
  a.selectors = {{port_->port_id(), uint16_t{30}, std::nullopt}};
  a.flush.kind = FlushKind::kAdaptive;
  a.max_held_packets = 1000;
  ASSERT_TRUE(dp_->UpsertTenant(a).ok());
  ASSERT_TRUE(dp_->UpsertTenant(Holder("c", 40)).ok());
  ASSERT_TRUE(dp_->RemoveTenant("c").ok());
  ASSERT_TRUE(dp_->SetUnmatchedTenant("a").ok());
  // A's traffic keeps flowing meanwhile.
  const Frames a_traffic = Segments(2, 30, 0, 4);
  port_->Inject(a_traffic);
  const Frames a_out = Forwarded(/*held=*/b_first.size());

  EXPECT_EQ(Counters("b").held_packets, b_first.size()) << "B was flushed";
  EXPECT_EQ(ConfigFlushes("b"), 0u);
  EXPECT_EQ(DiffStreams(SplitFlows(a_traffic), SplitFlows(a_out)), "");

  // B's flows go on and leave whole and in order.
  const Frames b_rest = Segments(8, 20, 4, 4);
  port_->Inject(b_rest);
  WaitHeld("b", b_first.size() + b_rest.size());
  const Frames out = Release({b});
  EXPECT_EQ(DiffStreams(SplitFlows(Concat(b_first, b_rest)), SplitFlows(out)),
            "");
}

TEST_F(IsolationTest, AFlowMovingToAnotherTenantLeavesTheOldOneFirst) {
  // "narrow" holds VLAN 10; "wide" every other VLAN of the port; "bystander"
  // VLAN 20, which no change below touches.
  TenantSpec narrow = Holder("narrow", 10);
  const TenantSpec wide = Holder("wide", std::nullopt);
  const TenantSpec bystander = Holder("bystander", 20);
  for (const TenantSpec& t : {narrow, wide, bystander}) {
    ASSERT_TRUE(dp_->UpsertTenant(t).ok());
  }
  const Frames moving_first = Segments(4, 10, 0, 4);
  const Frames by = Segments(4, 20, 0, 4);
  const Frames wide_first = Segments(4, 30, 0, 4);
  port_->Inject(moving_first);
  port_->Inject(by);
  port_->Inject(wide_first);
  WaitHeld("narrow", moving_first.size());
  WaitHeld("bystander", by.size());
  WaitHeld("wide", wide_first.size());

  // VLAN 10 moves from narrow to wide (narrow takes VLAN 11 from wide):
  // both may lose traffic and are flushed; the bystander is not.
  narrow.selectors = {{port_->port_id(), uint16_t{11}, std::nullopt}};
  ASSERT_TRUE(dp_->UpsertTenant(narrow).ok());
  const Frames flushed = Forwarded(/*held=*/by.size());
  EXPECT_EQ(Counters("bystander").held_packets, by.size());
  EXPECT_EQ(ConfigFlushes("bystander"), 0u);
  EXPECT_GT(ConfigFlushes("narrow"), 0u);
  EXPECT_GT(ConfigFlushes("wide"), 0u);
  WaitHeld("narrow", 0);
  WaitHeld("wide", 0);

  // The moved flows continue in "wide": their first part left before.
  const Frames moving_rest = Segments(4, 10, 4, 4);
  port_->Inject(moving_rest);
  WaitHeld("wide", moving_rest.size());
  Frames out = Concat(flushed, Forwarded(by.size() + moving_rest.size()));
  out = Concat(out, Release({narrow, wide, bystander}));
  const Frames in =
      Concat(Concat(moving_first, moving_rest), Concat(by, wide_first));
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  EXPECT_EQ(Counters("wide").packets_in,
            wide_first.size() + moving_rest.size());
}

TEST_F(IsolationTest, AMoreSpecificNewTenantFlushesOnlyTheTenantItTakesFrom) {
  const TenantSpec wide = Holder("wide", std::nullopt);
  const TenantSpec bystander = Holder("bystander", 20);
  ASSERT_TRUE(dp_->UpsertTenant(wide).ok());
  ASSERT_TRUE(dp_->UpsertTenant(bystander).ok());
  const Frames taken = Segments(4, 10, 0, 4);
  const Frames by = Segments(4, 20, 0, 4);
  port_->Inject(taken);
  port_->Inject(by);
  WaitHeld("wide", taken.size());
  WaitHeld("bystander", by.size());

  const TenantSpec newcomer = Holder("newcomer", 10);
  ASSERT_TRUE(dp_->UpsertTenant(newcomer).ok());
  WaitHeld("wide", 0);
  EXPECT_EQ(Counters("bystander").held_packets, by.size());

  const Frames taken_rest = Segments(4, 10, 4, 4);
  port_->Inject(taken_rest);
  WaitHeld("newcomer", taken_rest.size());
  const Frames out = Release({wide, bystander, newcomer});
  EXPECT_EQ(DiffStreams(SplitFlows(Concat(Concat(taken, taken_rest), by)),
                        SplitFlows(out)),
            "");
}

TEST_F(IsolationTest, ChangingTheUnmatchedTenantFlushesOnlyTheOldOne) {
  // "fallback" has no selector: it gets what no selector matches.
  TenantSpec fallback = Holder("fallback", 10);
  fallback.selectors.clear();
  const TenantSpec bystander = Holder("bystander", 20);
  ASSERT_TRUE(dp_->UpsertTenant(fallback).ok());
  ASSERT_TRUE(dp_->UpsertTenant(bystander).ok());
  ASSERT_TRUE(dp_->SetUnmatchedTenant("fallback").ok());
  const Frames unmatched = Segments(4, 10, 0, 4);
  const Frames by = Segments(4, 20, 0, 4);
  port_->Inject(unmatched);
  port_->Inject(by);
  WaitHeld("fallback", unmatched.size());
  WaitHeld("bystander", by.size());

  ASSERT_TRUE(dp_->SetUnmatchedTenant("").ok());  // bypass GRO from now on
  WaitHeld("fallback", 0);
  EXPECT_EQ(Counters("bystander").held_packets, by.size());
  const Frames unmatched_rest = Segments(4, 10, 4, 4);
  port_->Inject(unmatched_rest);
  Frames out = Forwarded(/*held=*/by.size());
  out = Concat(out, Release({bystander}));
  EXPECT_EQ(
      DiffStreams(SplitFlows(Concat(Concat(unmatched, unmatched_rest), by)),
                  SplitFlows(out)),
      "");
}

}  // namespace
}  // namespace grod::dataplane
