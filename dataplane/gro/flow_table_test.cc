// The flow table's slots, driven directly with chosen flow hashes: a flow
// sits in its home bucket (8 slots) or, that one full, the next, so at
// most kMaxProbe flows share a home; lookups compare whole keys on every
// hash match; deleting an entry moves entries back home so that lookups
// still find them.  Home buckets are computed here from the documented
// placement (multiply-shift by HashMultiplier(seed), home slot = keyed
// hash & (SlotCount() - 1), home bucket = home slot / 8).
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>
#include <random>
#include <vector>

#include "dataplane/gro/flow_table.h"
#include "dataplane/testing/dpdk_env.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint64_t kSeed = 0x7ab1e;
uint32_t g_max_flows = 64;  // the table's (64: 256 slots, 32 buckets)

uint32_t Keyed(uint32_t hash) {
  return uint32_t((uint64_t(hash) * HashMultiplier(kSeed)) >> 32);
}
uint32_t Buckets() { return FlowTable::SlotCount(g_max_flows) / 8; }
uint32_t HomeOf(uint32_t hash) {
  return (Keyed(hash) & (FlowTable::SlotCount(g_max_flows) - 1)) / 8;
}

// Flow hashes whose home bucket is in `homes`, in the order a seeded
// generator finds them.
std::vector<uint32_t> HashesHomedIn(const std::vector<uint32_t>& homes,
                                    size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> v;
  while (v.size() < n) {
    const uint32_t h = rng();
    for (uint32_t b : homes) {
      if (HomeOf(h) == b) v.push_back(h);
    }
  }
  return v;
}

FlowKey KeyOf(uint32_t i) {
  FlowKey k = {};
  k.src[0] = 10;
  k.src[1] = uint8_t(i >> 16);
  k.src[2] = uint8_t(i >> 8);
  k.src[3] = uint8_t(i);
  k.dst[0] = 10;
  k.dst[3] = 1;
  k.sport = uint16_t(1000 + i);
  k.dport = 80;
  k.type = kTcp4;
  k.proto = IPPROTO_TCP;
  return k;
}

class FlowTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitDpdk());
    g_max_flows = 64;
    t_ = FlowTable::Create(g_max_flows, SOCKET_ID_ANY, kSeed);
    ASSERT_NE(t_, nullptr);
  }
  void TearDown() override { FlowTable::Destroy(t_); }
  void Recreate(uint32_t max_flows) {
    FlowTable::Destroy(t_);
    g_max_flows = max_flows;
    t_ = FlowTable::Create(g_max_flows, SOCKET_ID_ANY, kSeed);
    ASSERT_NE(t_, nullptr);
  }
  // Gives f a header template (from a real TCP segment, as the engine
  // does), so that Retire() leaves it idle, keeping its slot.
  void GiveTemplate(Flow* f) {
    rte_mbuf* m = ToMbuf(TestPool(), Build(TcpSegment(1, 100)));
    ASSERT_NE(m, nullptr);
    ParsedPacket p;
    Parse(m, ParseConfig{}, &p);
    t_->SetTemplate(f, m, LayoutOf(p, Mode::kMerge), p.attrs);
    rte_pktmbuf_free(m);
    ASSERT_TRUE(f->shape != kNoShape);
  }
  // A live flow (Insert leaves the runs to the caller: one run here).
  Flow* Add(uint32_t key, uint32_t hash) {
    Flow* f = t_->Insert(KeyOf(key), hash, 0);
    if (f != nullptr) {
      f->nruns = 1;
      f->run0.segs = 1;
    }
    return f;
  }
  // Whether the full lookup finds exactly this key's entry, and the fast
  // path's lookup (hash only) an entry of the same flow hash.
  ::testing::AssertionResult Found(uint32_t key, uint32_t hash) {
    const FlowKey k = KeyOf(key);
    const Flow* f = t_->Find(k, hash);
    if (f == nullptr) return ::testing::AssertionFailure() << "key " << key;
    if (memcmp(&t_->cold(f).key, &k, sizeof(k)) != 0) {
      return ::testing::AssertionFailure() << "other key for " << key;
    }
    const FlowTable::Slots s = t_->slots();
    const uint32_t idx = s.Find(s.Key(hash));
    if (idx == kNil || t_->flow(idx)->hash != hash) {
      return ::testing::AssertionFailure() << "Slots::Find " << key;
    }
    return ::testing::AssertionSuccess();
  }
  // Read from the bucket array: every entry (live or idle) has one slot,
  // carrying its keyed hash, in its home bucket or, the home bucket full,
  // in the next one; an empty slot carries a hash that no lookup reading
  // its bucket can match.
  void CheckPlacement() {
    const FlowTable::Slots s = t_->slots();
    const uint32_t nb = Buckets();
    auto full = [&](uint32_t b) {
      for (uint32_t j = 0; j < kBucketSlots; ++j) {
        if (s.buckets[b].idx[j] == kNil) return false;
      }
      return true;
    };
    std::map<uint32_t, int> seen;
    for (uint32_t b = 0; b < nb; ++b) {
      for (uint32_t j = 0; j < kBucketSlots; ++j) {
        const uint32_t idx = s.buckets[b].idx[j];
        if (idx == kNil) {
          // Its hash is no lookup's of this bucket (homes b and b - 1).
          const uint32_t h =
              (s.buckets[b].hash[j] & (FlowTable::SlotCount(g_max_flows) - 1)) /
              8;
          EXPECT_NE(h, b) << "empty slot " << j << " of bucket " << b;
          EXPECT_NE((h + 1) % nb, b) << "empty slot " << j << " of " << b;
          continue;
        }
        ++seen[idx];
        const uint32_t hash = t_->flow(idx)->hash, home = HomeOf(hash);
        EXPECT_EQ(s.buckets[b].hash[j], Keyed(hash)) << "entry " << idx;
        if (b == home) continue;
        EXPECT_EQ(b, (home + 1) % nb) << "entry " << idx;
        EXPECT_TRUE(full(home)) << "entry " << idx << " away from home";
      }
    }
    EXPECT_EQ(seen.size(), t_->entries());
    for (const auto& [idx, n] : seen) EXPECT_EQ(n, 1) << "entry " << idx;
  }
  FlowTable* t_ = nullptr;
};

TEST_F(FlowTableTest, SeventeenthFlowOfAHomeIsRefused) {
  const std::vector<uint32_t> h = HashesHomedIn({10}, 17, 1);
  for (uint32_t i = 0; i < 16; ++i) ASSERT_NE(Add(i, h[i]), nullptr) << i;
  for (uint32_t i = 0; i < 16; ++i) EXPECT_TRUE(Found(i, h[i]));
  CheckPlacement();
  // Home and next bucket full: the bound.
  EXPECT_EQ(Add(16, h[16]), nullptr);
  EXPECT_EQ(t_->Find(KeyOf(16), h[16]), nullptr);
  EXPECT_EQ(t_->size(), 16u);
  // One leaves (an entry of the home bucket): room again, and the flows
  // that sat in the next bucket are still found.
  t_->Retire(t_->Find(KeyOf(3), h[3]));
  EXPECT_EQ(t_->Find(KeyOf(3), h[3]), nullptr);
  for (uint32_t i = 0; i < 16; ++i) {
    if (i != 3) EXPECT_TRUE(Found(i, h[i]));
  }
  CheckPlacement();
  ASSERT_NE(Add(16, h[16]), nullptr);
  EXPECT_TRUE(Found(16, h[16]));
  // Emptied one by one, oldest first: the rest stay found.
  for (uint32_t i = 0; i <= 16; ++i) {
    if (i == 3) continue;
    t_->Retire(t_->Find(KeyOf(i), h[i]));
    for (uint32_t k = i + 1; k <= 16; ++k) {
      if (k != 3) EXPECT_TRUE(Found(k, h[k])) << "after " << i;
    }
    CheckPlacement();
  }
  EXPECT_EQ(t_->size(), 0u);
}

// Different keys with one flow hash: every match is checked by key.
TEST_F(FlowTableTest, WholeKeysDecideBetweenEqualHashes) {
  const uint32_t h = HashesHomedIn({7}, 1, 2)[0];
  for (uint32_t i = 0; i < 16; ++i) ASSERT_NE(Add(i, h), nullptr) << i;
  for (uint32_t i = 0; i < 16; ++i) EXPECT_TRUE(Found(i, h));
  EXPECT_EQ(t_->Find(KeyOf(16), h), nullptr);  // same hash, not held
  EXPECT_EQ(Add(16, h), nullptr);              // the bound holds for them too
  t_->Retire(t_->Find(KeyOf(0), h));
  EXPECT_EQ(t_->Find(KeyOf(0), h), nullptr);
  for (uint32_t i = 1; i < 16; ++i) EXPECT_TRUE(Found(i, h));
  CheckPlacement();
}

// A full table of idle entries (no free entry): a new flow reclaims the
// least recently idle entry -- and when that one sat in the flow's home
// bucket, the flow takes its slot rather than one in the next bucket.
TEST_F(FlowTableTest, ReclaimedIdleSlotAtHomeComesFirst) {
  Recreate(16);  // 64 slots, 8 buckets
  const std::vector<uint32_t> home = HashesHomedIn({2}, 9, 5),
                              next = HashesHomedIn({3}, 7, 6);
  // Bucket 2: 8 flows of home 2; bucket 3: 7 of home 3, one slot free.
  // Entry indices are handed out from 0: home[0] gets entry 0, the first
  // the clock reclaims.
  std::vector<std::pair<uint32_t, uint32_t>> flows;  // key, hash
  for (uint32_t i = 0; i < 8; ++i) flows.push_back({i, home[i]});
  for (uint32_t i = 0; i < 7; ++i) flows.push_back({100 + i, next[i]});
  flows.push_back({200, HashesHomedIn({6}, 1, 7)[0]});
  for (const auto& [k, h] : flows) {
    Flow* f = Add(k, h);
    ASSERT_NE(f, nullptr) << k;
    GiveTemplate(f);
  }
  ASSERT_EQ(t_->index(t_->Find(KeyOf(0), home[0])), 0u);
  for (const auto& [k, h] : flows) t_->Retire(t_->Find(KeyOf(k), h));
  EXPECT_EQ(t_->size(), 0u);
  EXPECT_EQ(t_->entries(), 16u);  // all idle, none free
  for (const auto& [k, h] : flows) EXPECT_TRUE(Found(k, h));
  // A ninth flow of home 2: entry 0 (home[0], in bucket 2) is reclaimed.
  ASSERT_NE(Add(8, home[8]), nullptr);
  EXPECT_EQ(t_->Find(KeyOf(0), home[0]), nullptr);
  EXPECT_TRUE(Found(8, home[8]));
  for (size_t i = 1; i < flows.size(); ++i) {
    EXPECT_TRUE(Found(flows[i].first, flows[i].second));
  }
  CheckPlacement();
}

// Random adds, retirements (and a Reset() now and then) of flows crowded
// into three neighbouring home buckets (and some elsewhere), against a map
// of who is live: every live flow found, no retired one; an add refused
// only when at least kMaxProbe live flows could occupy the home bucket and
// the next (homes b-1, b, b+1), and never when fewer could.
TEST_F(FlowTableTest, RandomChurnAgainstAMap) {
  std::vector<uint32_t> hashes = HashesHomedIn({5, 6, 7}, 60, 3);
  std::mt19937 rng(4);
  for (int i = 0; i < 20; ++i) hashes.push_back(rng());
  for (int i = 0; i < 4; ++i) hashes.push_back(hashes[i]);  // equal hashes
  const uint32_t n = uint32_t(hashes.size()), nb = Buckets();
  std::map<uint32_t, bool> live;  // key -> live
  int refused = 0, accepted = 0;
  for (int step = 0; step < 4000; ++step) {
    if (step % 1000 == 999) {
      t_->Reset();  // (every flow "emitted" first, as the engine does)
      live.clear();
    } else if (rng() % 2 == 0 && !t_->full()) {
      const uint32_t k = rng() % n;
      if (live[k]) continue;
      const uint32_t b = HomeOf(hashes[k]);
      uint32_t near = 0;
      for (const auto& [other, on] : live) {
        const uint32_t ob = HomeOf(hashes[other]);
        near += on && (ob == b || ob == (b + 1) % nb || (ob + 1) % nb == b);
      }
      Flow* f = Add(k, hashes[k]);
      if (f == nullptr) {
        ++refused;
        EXPECT_GE(near, kMaxProbe) << "step " << step;
      } else {
        ++accepted;
        live[k] = true;
      }
      if (near < kMaxProbe) EXPECT_NE(f, nullptr) << "step " << step;
    } else {
      std::vector<uint32_t> on;
      for (const auto& [k, l] : live) {
        if (l) on.push_back(k);
      }
      if (on.empty()) continue;
      const uint32_t k = on[rng() % on.size()];
      t_->Retire(t_->Find(KeyOf(k), hashes[k]));
      live[k] = false;
    }
    for (uint32_t k = 0; k < n; ++k) {
      if (live[k]) {
        ASSERT_TRUE(Found(k, hashes[k])) << "step " << step;
      } else {
        ASSERT_EQ(t_->Find(KeyOf(k), hashes[k]), nullptr) << "step " << step;
      }
    }
    CheckPlacement();
  }
  // The stream did reach the bound, and mostly stayed below it.
  EXPECT_GT(refused, 0);
  EXPECT_GT(accepted, 200);
}

}  // namespace
}  // namespace grod::gro::testing
