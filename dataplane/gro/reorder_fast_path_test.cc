// Reordered TCP through the fast path (FastPath::OffRun, Take() and the
// streaming loop) and through the full path: seeded
// streams of a few flows whose segments swap with their flow's next, arrive
// a few places late, or come twice, in random bursts with flushes in
// between.  The expected result comes from a model of the rules written
// here (engine.h): per flow one growing run; a segment that does not
// continue it makes the run leave and starts the next (both modes, as
// Linux), a segment overlapping what the flow holds passes alone after it,
// 64 segments fill a run (it leaves).  Each output is read
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
    std::vector<uint32_t>& r = held_[f];
    if (std::find(r.begin(), r.end(), n) != r.end()) {
      Flush(f, &e_->passthrough);  // a duplicate passes after the run
      e_->out[f].push_back({n});
      ++e_->dup;
      return;
    }
    if (!r.empty() && r.back() + 1 == n) {
      r.push_back(n);
      if (r.size() == kMaxSegs) Flush(f, &e_->size);  // full: leaves now
      return;
    }
    Flush(f, &e_->reorder);  // (nothing held: nothing leaves, not counted)
    r.push_back(n);
  }
  void FlushAll(uint64_t* why) {
    for (auto& [f, r] : held_) Flush(f, why);
  }

 private:
  void Flush(int f, uint64_t* why) {
    std::vector<uint32_t>& r = held_[f];
    if (r.empty()) return;
    ++*why;
    e_->out[f].push_back(r);
    *(r.size() == 1 ? &e_->single : list_ ? &e_->listed : &e_->merged) += 1;
    r.clear();
  }
  const bool list_;
  Expected* e_;
  std::map<int, std::vector<uint32_t>> held_;
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

// 6 makes [0 1 2] leave, 3 makes [6] leave; 4 and 5 extend [3]; the
// second 6 then extends [3 4 5] too (the first 6 has left: no duplicate),
// and 7, 8 follow.  In one burst (the streaming loop and Take() take the
// restarted run) and one by one.
TEST_P(ReorderFastPath, SegmentAfterALeftRunExtendsTheNext) {
  const auto [seed, list, v6, fast] = GetParam();
  std::vector<In> in;
  for (uint32_t n : {0, 1, 2, 6, 3, 4, 5, 6, 7, 8}) in.push_back({0, n});
  std::mt19937 rng(seed);
  Check(in, list, v6, fast, &rng, seed % 2 ? 32 : 1, 0);
}

// Jumps back and forth: [10] leaves at 20, [20] at 2; 2 .. 9 grow one run
// that the second 10 extends (its first copy has left), then 11, 12.  One
// by one (every packet through Take(), not the streaming loop) and in
// bursts.
TEST_P(ReorderFastPath, RunRestartedBehindLeftRunsGrows) {
  const auto [seed, list, v6, fast] = GetParam();
  std::vector<In> in;
  for (uint32_t n : {10, 20, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
    in.push_back({0, n});
  }
  std::mt19937 rng(seed);
  Check(in, list, v6, fast, &rng, seed % 2 ? 32 : 1, 0);
}

// A segment that does not continue the flow's run emits what the flow
// holds at once, then starts the next run (both modes, as Linux): 1..5,
// then 7, 6, 8 leave as [1..5] [7] [6] [8], each as soon as the segment
// after it arrives, the flow holding only its newest run.  Packet by
// packet (outputs checked after each), or all in one burst (the streaming
// loop and Take() then see them) with the same outputs before the flush.
TEST_P(ReorderFastPath, OutOfSequenceSegmentEmitsWhatTheFlowHeldAtOnce) {
  const auto [seed, list, v6, fast] = GetParam();
  const Mode mode = list ? Mode::kList : Mode::kMerge;
  ContextConfig cfg;
  cfg.max_flows = 64;
  cfg.max_held_packets = 4096;
  Make(cfg);
  const std::vector<uint32_t> in = {1, 2, 3, 4, 5, 7, 6, 8};
  std::vector<rte_mbuf*> ms;
  for (uint32_t n : in) {
    ms.push_back(ToMbuf(pool_, FrameOf(0, n, v6)));
    ASSERT_NE(ms.back(), nullptr);
  }
  std::vector<OutPkt> got;
  auto take = [&] {
    for (rte_mbuf* m : col_.Take()) got.push_back(Consume(m));
    col_.pkts.clear();
  };
  Expected want;
  std::vector<std::vector<uint32_t>>& w = want.out[0];
  const bool one_burst = fast && seed % 2 == 1;
  if (one_burst) {
    ctx_->ProcessBurst(ms.data(), uint16_t(ms.size()), mode, 0, &col_.out);
    take();
    w = {{1, 2, 3, 4, 5}, {7}, {6}};
    CheckOutputs(got, want, list, v6);
  } else {
    // After each packet: what has left, and what the flow holds.
    const std::vector<std::vector<std::vector<uint32_t>>> left = {
        {}, {}, {}, {}, {}, {{1, 2, 3, 4, 5}}, {{7}}, {{6}}};
    const std::vector<uint32_t> held = {1, 2, 3, 4, 5, 1, 1, 1};
    for (size_t k = 0; k < ms.size(); ++k) {
      if (fast) {
        ctx_->ProcessBurst(&ms[k], 1, mode, k, &col_.out);
      } else {
        ParsedPacket p;
        Parse(ms[k], {}, &p);
        ctx_->Process(ms[k], p, mode, k, &col_.out);
      }
      take();
      w.insert(w.end(), left[k].begin(), left[k].end());
      SCOPED_TRACE("after segment " + std::to_string(in[k]));
      CheckOutputs(got, want, list, v6);
      EXPECT_EQ(ctx_->held_packets(), held[k]);
      EXPECT_EQ(ctx_->held_flows(), 1u);
    }
  }
  EXPECT_EQ(ctx_->held_packets(), 1u);  // [8], the newest run alone
  ctx_->FlushAll(&col_.out);
  take();
  w.push_back({8});
  CheckOutputs(got, want, list, v6);
  EXPECT_EQ(ctx_->held_packets(), 0u);
  const Counters& c = ctx_->counters();
  EXPECT_EQ(c.flushes[kFlushReorder], 3u);
  EXPECT_EQ(c.packets_out, 4u);
  EXPECT_EQ(list ? c.list_out : c.merged_out, 1u);
  EXPECT_EQ(c.single_out, 3u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use_);
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
