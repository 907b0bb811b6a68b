// Hash flooding: 5-tuples chosen so that their flows share one home slot
// (or one home bucket of 8 slots) of the flow table (computed here against
// a fixed seed) must not build a probe chain longer than kMaxProbe: flows
// beyond it pass through, counted (hash_collision), after what their flow
// holds; nothing is lost or reordered, and a context with another seed
// holds them all.  Idle entries (emitted flows keeping their slots) give
// their slots up to new flows of their home.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "dataplane/gro/flow_table.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/hash.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint64_t kSeed = 0x5eed;
constexpr uint32_t kMaxFlows = 4096;
constexpr int kFlows = 200;

using Ports = std::pair<uint16_t, uint16_t>;  // sport, dport

uint64_t PortWord(Ports p) {
  return uint64_t(p.first) << 48 | uint64_t(p.second) << 32 |
         FlowWordLow(0, kTcp4, 0, 0);
}

// The home slot, under `seed`, of the TCP flow with these ports between
// 10.0.0.1 and 10.0.0.2 on port 0.
uint32_t HomeSlot(uint64_t seed, Ports p) {
  const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  const uint32_t h = FlowHash(src, dst, false, PortWord(p), nullptr);
  return KeyedHash(h, HashMultiplier(seed)) &
         (FlowTable::SlotCount(kMaxFlows) - 1);
}

// Ports of n such flows whose keyed hashes under `seed` share a home slot
// -- or, with `slots_per_home` 8, a home bucket (home slot / 8) -- (what an
// attacker who knew the seed would send).
std::vector<Ports> CollidingPorts(uint64_t seed, int n = kFlows,
                                  uint32_t slots_per_home = 1) {
  std::vector<std::vector<Ports>> by_home(FlowTable::SlotCount(kMaxFlows) /
                                          slots_per_home);
  for (uint32_t dport = 2000; dport < 2100; ++dport) {
    for (uint32_t sport = 1; sport < 65536; ++sport) {
      const Ports p{uint16_t(sport), uint16_t(dport)};
      auto& v = by_home[HomeSlot(seed, p) / slots_per_home];
      v.push_back(p);
      if (v.size() == size_t(n)) return v;
    }
  }
  return {};
}

class HashFlood : public EngineTest {
 protected:
  // Two segments of each flow, flow by flow interleaved: first all first
  // segments, then all second ones; then everything is flushed.
  std::vector<OutPkt> Run(uint64_t seed, const std::vector<Ports>& ports) {
    ContextConfig cfg;
    cfg.max_flows = kMaxFlows;
    cfg.hash_seed = seed;
    Make(cfg);
    return Send(ports);
  }
  std::vector<OutPkt> Send(const std::vector<Ports>& ports) {
    for (int round = 0; round < 2; ++round) {
      for (const Ports& pt : ports) {
        PacketSpec s = TcpSegment(1000 + 100 * round, 100);
        s.sport = pt.first;
        s.dport = pt.second;
        Bytes b = Build(s);
        rte_mbuf* m = ToMbuf(pool_, b);
        m->port = 0;  // (a fresh mbuf says RTE_MBUF_PORT_INVALID)
        ParsedPacket p;
        Parse(m, ParseConfig{}, &p);
        // The test's own hash is the parser's.
        EXPECT_EQ(p.hash,
                  FlowHash(&b[26], &b[30], false, PortWord(pt), nullptr));
        ctx_->Process(m, p, Mode::kMerge, 0, &col_.out);
      }
    }
    return Out();
  }
};

// Each flow's output payload, by ports (read from the output bytes).
std::map<Ports, Bytes> PayloadByPorts(const std::vector<OutPkt>& out) {
  std::map<Ports, Bytes> got;
  for (const OutPkt& o : out) {
    const Ports pt{uint16_t(o.bytes[34] << 8 | o.bytes[35]),
                   uint16_t(o.bytes[36] << 8 | o.bytes[37])};
    got[pt].insert(got[pt].end(), o.bytes.begin() + 54, o.bytes.end());
  }
  return got;
}

// What every flow sent: its two segments' payloads in order.
Bytes BothSegments() {
  Bytes want = Payload(100, 1000);
  const Bytes second = Payload(100, 1100);
  want.insert(want.end(), second.begin(), second.end());
  return want;
}

TEST_F(HashFlood, ProbeChainIsBoundedAndTheRestPassInOrder) {
  const std::vector<Ports> ports = CollidingPorts(kSeed);
  ASSERT_EQ(ports.size(), size_t(kFlows));
  const std::vector<OutPkt> out = Run(kSeed, ports);
  const uint64_t passed = ctx_->counters().passthrough[kPassHashCollision];
  // kMaxProbe flows held (and merged: 2 segments each), the others pass
  // both their segments.
  EXPECT_EQ(passed, 2u * (kFlows - kMaxProbe));
  EXPECT_EQ(ctx_->counters().merged_out, kMaxProbe);
  EXPECT_EQ(out.size(), kMaxProbe + 2u * (kFlows - kMaxProbe));
  // Per flow (by ports, read from the bytes): its payload in order.
  std::map<Ports, Bytes> got = PayloadByPorts(out);
  const Bytes want = BothSegments();
  for (const Ports& pt : ports) EXPECT_TRUE(got[pt] == want) << pt.first;
}

// Each flow's payload, by ports (read from the output bytes), must be its
// two segments in order.
void ExpectInOrder(const std::vector<OutPkt>& out,
                   const std::vector<Ports>& ports) {
  std::map<Ports, Bytes> got = PayloadByPorts(out);
  const Bytes want = BothSegments();
  for (const Ports& pt : ports) EXPECT_TRUE(got[pt] == want) << pt.first;
  EXPECT_EQ(got.size(), ports.size());
}

// 17 flows of one home bucket, over several of its slots: 16 are held (the
// home bucket and the next), the 17th passes both its segments, counted.
TEST_F(HashFlood, SeventeenthFlowOfABucketPasses) {
  const std::vector<Ports> ports = CollidingPorts(kSeed, 17, 8);
  ASSERT_EQ(ports.size(), 17u);
  std::set<uint32_t> slots;
  for (const Ports& p : ports) slots.insert(HomeSlot(kSeed, p));
  EXPECT_GT(slots.size(), 4u);
  const std::vector<OutPkt> out = Run(kSeed, ports);
  EXPECT_EQ(ctx_->counters().passthrough[kPassHashCollision], 2u);
  EXPECT_EQ(ctx_->counters().merged_out, 16u);
  EXPECT_EQ(out.size(), 16u + 2u);
  ExpectInOrder(out, ports);
}

// Emitted flows stay in the table, idle, in their slots; 16 new flows of
// the same home take those slots over (nothing passes), and then the
// first 16 come back and take them again.
TEST_F(HashFlood, IdleEntriesGiveTheirSlotsUp) {
  const std::vector<Ports> ports = CollidingPorts(kSeed);
  ASSERT_EQ(ports.size(), size_t(kFlows));
  const std::vector<Ports> first(ports.begin(), ports.begin() + kMaxProbe),
      second(ports.begin() + kMaxProbe, ports.begin() + 2 * kMaxProbe);
  ExpectInOrder(Run(kSeed, first), first);
  ExpectInOrder(Send(second), second);
  ExpectInOrder(Send(first), first);
  EXPECT_EQ(ctx_->counters().passthrough[kPassHashCollision], 0u);
  EXPECT_EQ(ctx_->counters().merged_out, 3u * kMaxProbe);
}

// The same 5-tuples against another seed: spread out, all held.
TEST_F(HashFlood, AnotherSeedPlacesThemApart) {
  const std::vector<Ports> ports = CollidingPorts(kSeed);
  ASSERT_EQ(ports.size(), size_t(kFlows));
  Run(kSeed + 1, ports);
  EXPECT_EQ(ctx_->counters().passthrough[kPassHashCollision], 0u);
  EXPECT_EQ(ctx_->counters().merged_out, uint64_t(kFlows));
}

// Seeds differ per context when none is given.
TEST(HashMultiplierTest, RandomPerContextWhenUnset) {
  EXPECT_NE(HashMultiplier(0), HashMultiplier(0));
  EXPECT_EQ(HashMultiplier(7), HashMultiplier(7));
  EXPECT_EQ(HashMultiplier(7) & 1, 1u);
}

}  // namespace
}  // namespace grod::gro::testing
