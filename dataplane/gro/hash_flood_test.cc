// Hash flooding: 5-tuples chosen so that their flows share one home slot
// of the flow table (computed here against a fixed seed) must not build a
// probe chain longer than kMaxProbe: flows beyond it pass through, counted
// (hash_collision), after what their flow holds; nothing is lost or
// reordered, and a context with another seed holds them all.
#include <gtest/gtest.h>

#include <map>

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

// TCP ports of kFlows flows between 10.0.0.1 and 10.0.0.2 on port 0 whose
// keyed hashes under `seed` share a home slot (what an attacker who knew
// the seed would send).
std::vector<Ports> CollidingPorts(uint64_t seed) {
  const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  const uint64_t mult = HashMultiplier(seed);
  const uint32_t nslots = FlowTable::SlotCount(kMaxFlows);
  std::vector<std::vector<Ports>> by_home(nslots);
  for (uint32_t dport = 2000; dport < 2100; ++dport) {
    for (uint32_t sport = 1; sport < 65536; ++sport) {
      const Ports p{uint16_t(sport), uint16_t(dport)};
      const uint32_t h = FlowHash(src, dst, false, PortWord(p), nullptr);
      auto& v = by_home[KeyedHash(h, mult) & (nslots - 1)];
      v.push_back(p);
      if (v.size() == size_t(kFlows)) return v;
    }
  }
  return {};
}

class HashFlood : public EngineTest {
 protected:
  // Two segments of each flow, flow by flow interleaved: first all first
  // segments, then all second ones.
  std::vector<OutPkt> Run(uint64_t seed, const std::vector<Ports>& ports) {
    ContextConfig cfg;
    cfg.max_flows = kMaxFlows;
    cfg.hash_seed = seed;
    Make(cfg);
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
  std::map<Ports, Bytes> got;
  for (const OutPkt& o : out) {
    const Ports pt{uint16_t(o.bytes[34] << 8 | o.bytes[35]),
                   uint16_t(o.bytes[36] << 8 | o.bytes[37])};
    got[pt].insert(got[pt].end(), o.bytes.begin() + 54, o.bytes.end());
  }
  Bytes want = Payload(100, 1000);
  const Bytes second = Payload(100, 1100);
  want.insert(want.end(), second.begin(), second.end());
  for (const Ports& pt : ports) EXPECT_TRUE(got[pt] == want) << pt.first;
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
