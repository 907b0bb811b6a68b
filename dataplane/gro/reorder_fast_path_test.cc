// Reordered TCP through the fast path (FastPath::OffRun and the streaming
// loop over a LIST flow's newest run) and through the full path: seeded
// streams of a few flows whose segments swap with their flow's next, arrive
// a few places late, or come twice, in random bursts with flushes in
// between.  The expected result comes from a model of the rules written
// here (engine.h): per flow one growing run; a segment that does not
// continue it starts the next (MERGE: the run leaves first; LIST: it waits,
// up to four runs, then all leave), a segment overlapping what the flow
// holds passes alone after it, 64 segments fill a run.  Each output is read
// back from its bytes (headers walked here): per 5-tuple the exact sequence
// of outputs and the segments each carries; every lone segment and list
// member byte-for-byte the frame that went in; merged payloads the
// segments' bytes in order; the counters the model predicts (flush reasons,
// duplicates, merged/listed/single outputs); the mempool back at its
// starting count.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint32_t kSeg = 300;  // payload bytes per segment
constexpr uint32_t kMaxSegs = 64;
constexpr int kFlows = 3;
constexpr size_t kRunsHeld = 4;  // LIST: runs a flow holds at most

uint32_t Be16At(const Bytes& b, size_t at) { return b[at] << 8 | b[at + 1]; }
uint32_t Be32At(const Bytes& b, size_t at) {
  return Be16At(b, at) << 16 | Be16At(b, at + 2);
}

// Segment n of flow f: its own port pair and sequence space.
uint32_t SeqOf(int f, uint32_t n) { return 100000u * (f + 1) + n * kSeg; }
Bytes FrameOf(int f, uint32_t n, bool v6) {
  PacketSpec s = TcpSegment(SeqOf(f, n), kSeg, v6);
  s.sport = uint16_t(5000 + f);
  return Build(s);
}

struct In {
  int flow;
  uint32_t n;
};

// What the model expects: per flow, outputs as segment numbers; counters.
struct Expected {
  std::map<int, std::vector<std::vector<uint32_t>>> out;
  uint64_t reorder = 0, size = 0, timeout = 0, passthrough = 0, dup = 0;
  uint64_t merged = 0, listed = 0, single = 0;
};

class Model {
 public:
  Model(bool list, Expected* e) : list_(list), e_(e) {}
  void Packet(int f, uint32_t n) {
    std::vector<std::vector<uint32_t>>& runs = held_[f];
    const bool dup = std::any_of(runs.begin(), runs.end(), [&](auto& r) {
      return std::find(r.begin(), r.end(), n) != r.end();
    });
    if (dup) {  // passes after what the flow holds
      Flush(f, &e_->passthrough);
      e_->out[f].push_back({n});
      ++e_->dup;
      return;
    }
    if (!runs.empty() && runs.back().back() + 1 == n) {
      std::vector<uint32_t>& r = runs.back();
      if (r.size() < kMaxSegs) {
        r.push_back(n);
        // A full run of a flow in order leaves at once.
        if (r.size() == kMaxSegs && runs.size() == 1) Flush(f, &e_->size);
        return;
      }
      Flush(f, &e_->size);  // (LIST with older runs: the full one waits)
    } else if (!runs.empty() && (!list_ || runs.size() == kRunsHeld)) {
      Flush(f, &e_->reorder);
    }
    held_[f].push_back({n});
  }
  void FlushAll(uint64_t* why) {
    for (auto& [f, runs] : held_) Flush(f, why);
  }

 private:
  void Flush(int f, uint64_t* why) {
    std::vector<std::vector<uint32_t>>& runs = held_[f];
    if (runs.empty()) return;
    ++*why;
    for (auto& r : runs) {
      e_->out[f].push_back(r);
      *(r.size() == 1 ? &e_->single : list_ ? &e_->listed : &e_->merged) += 1;
    }
    runs.clear();
  }
  const bool list_;
  Expected* e_;
  std::map<int, std::vector<std::vector<uint32_t>>> held_;
};

// Each flow in order, then: 6% of segments swap with the next, 2% arrive
// 2..6 places late, 2% come again a few places later; flows interleaved in
// random stretches.
std::vector<In> Stream(std::mt19937* rng, int per_flow) {
  auto pct = [&](int p) { return int((*rng)() % 100) < p; };
  std::vector<std::vector<In>> flows(kFlows);
  for (int f = 0; f < kFlows; ++f) {
    std::vector<In>& s = flows[f];
    for (int n = 0; n < per_flow; ++n) s.push_back({f, uint32_t(n)});
    for (size_t k = 0; k + 1 < s.size(); ++k) {
      if (pct(6)) {
        std::swap(s[k], s[k + 1]);
      } else if (pct(2)) {
        const size_t to = std::min(s.size() - 1, k + 2 + (*rng)() % 5);
        const In late = s[k];
        s.erase(s.begin() + k);
        s.insert(s.begin() + to, late);
      } else if (pct(2)) {
        s.insert(s.begin() + std::min(s.size(), k + 1 + (*rng)() % 4), s[k]);
      }
    }
  }
  std::vector<In> out;
  std::vector<size_t> at(kFlows, 0);
  while (out.size() < size_t(kFlows) * per_flow) {
    const int f = int((*rng)() % kFlows);
    for (uint32_t k = 1 + (*rng)() % 24; k > 0 && at[f] < flows[f].size();
         --k) {
      out.push_back(flows[f][at[f]++]);
    }
    bool left = false;
    for (int g = 0; g < kFlows; ++g) left |= at[g] < flows[g].size();
    if (!left) break;
  }
  return out;
}

using Param = std::tuple<uint32_t, bool, bool, bool>;  // seed, list, v6, fast

class ReorderFastPath : public EngineTest,
                        public ::testing::WithParamInterface<Param> {
 protected:
  // Feeds `in` in bursts of 1..max_burst packets (one by one through
  // Process() unless `fast`), everything held leaving (timeout 0) every
  // `flush_every` packets or so (0: only at the end), and checks the
  // outputs against the model.
  void Check(const std::vector<In>& in, bool list, bool v6, bool fast,
             std::mt19937* rng, uint32_t max_burst, size_t flush_every) {
    const Mode mode = list ? Mode::kList : Mode::kMerge;
    ContextConfig cfg;
    cfg.max_flows = 64;
    cfg.max_held_packets = 4096;
    Make(cfg);
    Expected want;
    Model model(list, &want);
    std::vector<OutPkt> got;
    size_t since_flush = 0;
    for (size_t i = 0; i < in.size();) {
      const size_t n =
          std::min(in.size() - i, size_t(1 + (*rng)() % max_burst));
      std::vector<rte_mbuf*> ms;
      for (size_t k = i; k < i + n; ++k) {
        ms.push_back(ToMbuf(pool_, FrameOf(in[k].flow, in[k].n, v6)));
        ASSERT_NE(ms.back(), nullptr);
        model.Packet(in[k].flow, in[k].n);
      }
      if (fast) {
        ctx_->ProcessBurst(ms.data(), uint16_t(n), mode, i, &col_.out);
      } else {
        for (rte_mbuf* m : ms) {
          ParsedPacket p;
          Parse(m, {}, &p);
          ctx_->Process(m, p, mode, i, &col_.out);
        }
      }
      i += n;
      if (flush_every != 0 && (since_flush += n) >= flush_every) {
        ctx_->FlushTimedOut(i, 0, &col_.out);
        model.FlushAll(&want.timeout);
        since_flush = 0;
      }
    }
    uint64_t at_end = 0;
    ctx_->FlushAll(&col_.out);
    model.FlushAll(&at_end);
    for (rte_mbuf* m : col_.Take()) got.push_back(Consume(m));
    col_.pkts.clear();
    CheckOutputs(got, want, list, v6);
    const Counters& c = ctx_->counters();
    EXPECT_EQ(c.packets_in, in.size());
    EXPECT_EQ(c.flushes[kFlushReorder], want.reorder);
    EXPECT_EQ(c.flushes[kFlushSize], want.size);
    EXPECT_EQ(c.flushes[kFlushTimeout], want.timeout);
    EXPECT_EQ(c.flushes[kFlushPassthrough], want.passthrough);
    EXPECT_EQ(c.passthrough[kPassDuplicate], want.dup);
    EXPECT_EQ(c.merged_out, want.merged);
    EXPECT_EQ(c.list_out, want.listed);
    EXPECT_EQ(c.single_out, want.single);
    EXPECT_EQ(c.packets_out, got.size());
    // Every mbuf back (the fixture checks it again after the context goes).
    EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_);
  }

  // Reads the outputs back -- flow by source port, segments by sequence
  // number -- and compares them per flow with the model's.
  static void CheckOutputs(const std::vector<OutPkt>& got, const Expected& want,
                           bool list, bool v6) {
    std::map<int, std::vector<std::vector<uint32_t>>> per_flow;
    for (const OutPkt& o : got) {
      const Bytes& b = o.bytes;
      const size_t l3 = 14, l4 = v6 ? l3 + 40 : l3 + (b[l3] & 0x0f) * 4u;
      const size_t payload = l4 + (b[l4 + 12] >> 4) * 4u;
      const int f = int(Be16At(b, l4)) - 5000;
      ASSERT_TRUE(f >= 0 && f < kFlows) << "source port " << Be16At(b, l4);
      const uint32_t seq = Be32At(b, l4 + 4);
      ASSERT_EQ((seq - SeqOf(f, 0)) % kSeg, 0u);
      const uint32_t first = (seq - SeqOf(f, 0)) / kSeg;
      std::vector<uint32_t> segs;
      if (o.members.size() > 1 || o.list) {
        EXPECT_TRUE(list) << "a list out of MERGE";
        for (const Bytes& m : o.members) {
          const uint32_t n = (Be32At(m, l4 + 4) - SeqOf(f, 0)) / kSeg;
          EXPECT_EQ(m, FrameOf(f, n, v6)) << "list member " << n << " of flow "
                                          << f << " differs from its input";
          segs.push_back(n);
        }
      } else if (b.size() == payload + kSeg) {
        EXPECT_EQ(b, FrameOf(f, first, v6))
            << "lone segment " << first << " of flow " << f << " changed";
        segs.push_back(first);
      } else {
        EXPECT_FALSE(list) << "a merged packet out of LIST";
        ASSERT_EQ((b.size() - payload) % kSeg, 0u);
        for (size_t at = payload; at < b.size(); at += kSeg) {
          const uint32_t n = first + uint32_t(at - payload) / kSeg;
          const Bytes p = Payload(kSeg, SeqOf(f, n));
          EXPECT_TRUE(std::equal(p.begin(), p.end(), b.begin() + at))
              << "merged segment " << n << " of flow " << f;
          segs.push_back(n);
        }
      }
      per_flow[f].push_back(segs);
    }
    for (int f = 0; f < kFlows; ++f) {
      const auto w = want.out.find(f);
      EXPECT_EQ(per_flow[f], w == want.out.end()
                                 ? std::vector<std::vector<uint32_t>>{}
                                 : w->second)
          << "outputs of flow " << f;
    }
  }
};

TEST_P(ReorderFastPath, OutputPerFlowIsWhatTheRulesSay) {
  const auto [seed, list, v6, fast] = GetParam();
  std::mt19937 rng(seed);
  const std::vector<In> in = Stream(&rng, 400);
  Check(in, list, v6, fast, &rng, 32, 40 + rng() % 100);
}

// LIST holds runs [0 1 2] [6] when 3 starts the newest: 4 and 5 extend
// it, then a second copy of 6 would too by its sequence number but
// overlaps the held [6] -- a duplicate, passed (never listed) -- and 7
// does not extend [3 4 5].  In one burst (the streaming loop must stop
// short of the older run) and one by one.
TEST_P(ReorderFastPath, NewestRunStopsAtAnOlderRun) {
  const auto [seed, list, v6, fast] = GetParam();
  std::vector<In> in;
  for (uint32_t n : {0, 1, 2, 6, 3, 4, 5, 6, 7, 8}) in.push_back({0, n});
  std::mt19937 rng(seed);
  Check(in, list, v6, fast, &rng, seed % 2 ? 32 : 1, 0);
}

// Run::clear, the bound in the hot entry up to which the newest run grows
// without reading the older runs, must be recomputed whenever a run opens,
// against every older run: [10] then [20] (10 behind it: nothing ahead),
// then 2 opens the newest in front of [20] [10] -- it may grow to 9 only,
// so the second 10 is a duplicate (passed), and 11 opens a fourth run.  A
// bound kept from [20]'s open, or taken from the previous newest run only,
// would list the second 10 with [2 .. 9].  One by one (every packet through
// Take(), not the streaming loop) and in bursts.
TEST_P(ReorderFastPath, NewestRunBoundIsRecomputedOnEveryOpen) {
  const auto [seed, list, v6, fast] = GetParam();
  std::vector<In> in;
  for (uint32_t n : {10, 20, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
    in.push_back({0, n});
  }
  std::mt19937 rng(seed);
  Check(in, list, v6, fast, &rng, seed % 2 ? 32 : 1, 0);
}

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  const auto [seed, list, v6, fast] = info.param;
  return std::string(list ? "List" : "Merge") + (v6 ? "V6" : "V4") +
         (fast ? "Burst" : "Process") + "Seed" + std::to_string(seed);
}

INSTANTIATE_TEST_SUITE_P(Streams, ReorderFastPath,
                         ::testing::Combine(::testing::Range(1u, 13u),
                                            ::testing::Bool(),
                                            ::testing::Bool(),
                                            ::testing::Bool()),
                         ParamName);

}  // namespace
}  // namespace grod::gro::testing
