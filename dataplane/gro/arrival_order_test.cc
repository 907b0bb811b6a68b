// MERGE keeps each TCP flow in arrival order: a segment that does not
// continue the held run at its end (one that belongs before it, or a late
// one) flushes the run first and starts the next, as Linux GRO does.  Each
// output is read back from its bytes alone (Ethernet, IP and TCP headers
// walked here, not by the engine's parser or metadata) and cut into the
// 1000-byte segments that went in; per flow, the segments must come out in
// the order they arrived -- through Process(), ProcessBurst() (the fast
// path and its streaming loop) and one-packet bursts.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint32_t kSeg = 1000;

enum class Path { kProcess, kBurst, kOneByOneBurst };

struct Case {
  std::vector<uint32_t> arrival;  // segment numbers (seq / kSeg)
  size_t outputs;                 // what the Linux rule gives
};

uint32_t Be32At(const Bytes& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 |
         uint32_t(b[at + 2]) << 8 | b[at + 3];
}

class ArrivalOrder
    : public EngineTest,
      public ::testing::WithParamInterface<std::tuple<bool, Path>> {
 protected:
  // Feeds the segments in `arrival` order; returns the outputs.
  std::vector<OutPkt> Run(const std::vector<uint32_t>& arrival, bool v6,
                          Path path) {
    Make();
    std::vector<rte_mbuf*> ms;
    for (uint32_t i : arrival) {
      ms.push_back(ToMbuf(pool_, Build(TcpSegment(i * kSeg, kSeg, v6))));
    }
    for (rte_mbuf* m : ms) {
      if (path == Path::kProcess) {
        ParsedPacket p;
        Parse(m, {}, &p);
        ctx_->Process(m, p, Mode::kMerge, 0, &col_.out);
      } else if (path == Path::kOneByOneBurst) {
        ctx_->ProcessBurst(&m, 1, Mode::kMerge, 0, &col_.out);
      }
    }
    if (path == Path::kBurst) {
      ctx_->ProcessBurst(ms.data(), uint16_t(ms.size()), Mode::kMerge, 0,
                         &col_.out);
    }
    return Out();
  }

  // The segment numbers an output carries, in byte order, each checked to
  // hold exactly the payload that segment was sent with.
  static std::vector<uint32_t> Segments(const OutPkt& o, bool v6) {
    const Bytes& b = o.bytes;
    std::vector<uint32_t> segs;
    EXPECT_GE(b.size(), 14u);
    if (b.size() < 14) return segs;
    const uint16_t ether = uint16_t(b[12] << 8 | b[13]);
    EXPECT_EQ(ether, v6 ? 0x86dd : 0x0800);
    const size_t l3 = 14;
    const size_t l4 = v6 ? l3 + 40 : l3 + (b[l3] & 0x0f) * 4u;
    EXPECT_EQ(b[v6 ? l3 + 6 : l3 + 9], IPPROTO_TCP);
    const size_t payload = l4 + (b[l4 + 12] >> 4) * 4u;
    const size_t len = b.size() - payload;
    EXPECT_EQ(len % kSeg, 0u) << "payload of " << len << " bytes";
    const uint32_t seq = Be32At(b, l4 + 4);
    for (size_t at = 0; at + kSeg <= len; at += kSeg) {
      const uint32_t s = seq + uint32_t(at);
      EXPECT_EQ(s % kSeg, 0u);
      const Bytes want = Payload(kSeg, s);
      EXPECT_TRUE(
          std::equal(want.begin(), want.end(), b.begin() + payload + at))
          << "segment at seq " << s << " carries other bytes";
      segs.push_back(s / kSeg);
    }
    return segs;
  }

  void Check(const Case& c) {
    const auto [v6, path] = GetParam();
    const std::vector<OutPkt> out = Run(c.arrival, v6, path);
    std::vector<uint32_t> got;
    for (const OutPkt& o : out) {
      const std::vector<uint32_t> s = Segments(o, v6);
      got.insert(got.end(), s.begin(), s.end());
    }
    EXPECT_EQ(got, c.arrival) << "segments out (by seq / 1000) differ from "
                                 "the arrival order";
    EXPECT_EQ(out.size(), c.outputs);
  }
};

TEST_P(ArrivalOrder, InOrderSegmentsStillMergeIntoOne) {
  Check({{0, 1, 2, 3, 4, 5, 6, 7}, 1});
}

// Segment 1 arrives before 0: 0 must not be put in front of the held 1
// (the checker's case (a)).  Out: [1] [0] [2 3].
TEST_P(ArrivalOrder, EarlierSequenceIsNotPrepended) {
  Check({{1, 0, 2, 3}, 3});
}

// 4 before 3: 3 fills the gap between [0 1 2] and [4] but arrived after
// 4, so nothing joins across it.  Out: [0 1 2] [4] [3] [5 6].
TEST_P(ArrivalOrder, GapFilledLateDoesNotJoinRuns) {
  Check({{0, 1, 2, 4, 3, 5, 6}, 4});
}

// The checker's case (b): a late segment (1) arrives while 3..7 are held
// and 8.. follow it: 1 leaves after 3..7 and before 8..11, and 3..7 stop
// growing when 1 comes.  Out: [3..7] [1] [8..11].
TEST_P(ArrivalOrder, LateSegmentLeavesBetweenItsNeighboursByArrival) {
  Check({{3, 4, 5, 6, 7, 1, 8, 9, 10, 11}, 3});
}

std::string ParamName(
    const ::testing::TestParamInfo<std::tuple<bool, Path>>& info) {
  static const char* const kPaths[] = {"Process", "Burst", "OneByOneBurst"};
  return std::string(std::get<0>(info.param) ? "V6" : "V4") +
         kPaths[int(std::get<1>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(
    V4V6Paths, ArrivalOrder,
    ::testing::Combine(::testing::Bool(),
                       ::testing::Values(Path::kProcess, Path::kBurst,
                                         Path::kOneByOneBurst)),
    ParamName);

}  // namespace
}  // namespace grod::gro::testing
