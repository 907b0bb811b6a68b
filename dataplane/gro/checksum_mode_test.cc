// Checksum verification is MERGE's alone (issue #15).  MERGE rewrites
// checksums, so with verify_checksums a segment whose checksum is wrong must
// never end up inside a merged packet (which would carry a valid checksum
// over corrupted data).  LIST and BYPASS change no byte: the receiver checks
// every original packet itself, so they never read a payload to verify it,
// and a packet with a wrong checksum is linked (LIST) or forwarded (BYPASS)
// byte-identical.  SoftwareL4Verifications() counts the payload reads.
// Every case runs on the full path (Parse + Process) and the fast path
// (ProcessBurst: templates and the streaming loop).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/gro/checksum.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

enum class Traffic { kTcp4, kTcp6, kUdp4 };

constexpr int kSegments = 12;
constexpr size_t kPayload = 1000;
// Segments whose payload is corrupted after their checksum was computed.
constexpr int kCorrupt[] = {3, 7};

bool IsCorrupt(int i) {
  for (int c : kCorrupt) {
    if (c == i) return true;
  }
  return false;
}

std::vector<Bytes> Stream(Traffic t) {
  std::vector<Bytes> v;
  for (int i = 0; i < kSegments; ++i) {
    PacketSpec s;
    if (t == Traffic::kUdp4) {
      s.proto = IPPROTO_UDP;
      s.payload = Payload(kPayload, uint32_t(i));
    } else {
      s = TcpSegment(1000 + uint32_t(i * kPayload), kPayload,
                     t == Traffic::kTcp6);
    }
    Bytes b = Build(s);
    // A payload bit flipped on the wire: the L4 checksum no longer matches.
    if (IsCorrupt(i)) b[b.size() - 100] ^= 0x40;
    v.push_back(b);
  }
  return v;
}

// The expected LIST output: one list of every segment, each byte-identical
// (the corrupted ones included: the receiver's own check drops them).
void ExpectOneListOfAll(const std::vector<OutPkt>& out,
                        const std::vector<Bytes>& in) {
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].list);
  ASSERT_EQ(out[0].members.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[0].members[i], in[i]) << "segment " << i;
  }
}

// The expected MERGE output: 0..2 merged, 3 alone (as it came), 4..6
// merged, 7 alone, 8..11 merged.
void ExpectCorruptedLeftAlone(const std::vector<OutPkt>& out,
                              const std::vector<Bytes>& in) {
  std::vector<int> segs;
  for (const OutPkt& o : out) segs.push_back(o.nb_segs);
  EXPECT_EQ(segs, (std::vector<int>{3, 1, 3, 1, 4}));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[1].bytes, in[3]);
  EXPECT_EQ(out[3].bytes, in[7]);
}

struct Case {
  Traffic traffic;
  bool fast;
};

std::string Name(const ::testing::TestParamInfo<Case>& i) {
  const char* t[] = {"Tcp4", "Tcp6", "Udp4"};
  return std::string(t[int(i.param.traffic)]) +
         (i.param.fast ? "FastPath" : "FullPath");
}

class ChecksumModeTest : public EngineTest,
                         public ::testing::WithParamInterface<Case> {
 protected:
  // Feeds the stream in `mode` with verification on and no NIC verdict
  // (rx_flags 0, as virtual devices deliver), then flushes; returns the
  // outputs and sets sw_verifications_ to the payload reads it caused.
  std::vector<OutPkt> Run(const std::vector<Bytes>& in, Mode mode,
                          uint64_t rx_flags = 0) {
    ContextConfig cfg;
    cfg.verify_checksums = true;
    Make(cfg);
    return FeedAll(in, mode, [rx_flags](int) { return rx_flags; });
  }
  // Run() in the current context; segment i carries rx_flags(i).
  template <typename Flags>
  std::vector<OutPkt> FeedAll(const std::vector<Bytes>& in, Mode mode,
                              Flags rx_flags) {
    std::vector<rte_mbuf*> ms;
    for (const Bytes& b : in) {
      ms.push_back(ToMbuf(pool_, b));
      ms.back()->ol_flags |= rx_flags(int(ms.size() - 1));
    }
    const uint64_t before = SoftwareL4Verifications();
    if (GetParam().fast) {
      ctx_->ProcessBurst(ms.data(), uint16_t(ms.size()), mode, 0, &col_.out);
    } else {
      for (rte_mbuf* m : ms) {
        ParsedPacket p;
        Parse(m, ParseConfig{}, &p);
        ctx_->Process(m, p, mode, 0, &col_.out);
      }
    }
    ctx_->FlushAll(&col_.out);
    sw_verifications_ = SoftwareL4Verifications() - before;
    return Out();
  }
  uint64_t sw_verifications_ = 0;
};

TEST_P(ChecksumModeTest,
       ListLinksCorruptedSegmentsUntouchedWithoutReadingThem) {
  const std::vector<Bytes> in = Stream(GetParam().traffic);
  const std::vector<OutPkt> out = Run(in, Mode::kList);
  ExpectOneListOfAll(out, in);
  EXPECT_EQ(ctx_->counters().passthrough[kPassBadChecksum], 0u);
  EXPECT_EQ(ctx_->counters().segments_listed, in.size());
  EXPECT_EQ(sw_verifications_, 0u) << "LIST read payloads for checksums";
}

TEST_P(ChecksumModeTest, BypassForwardsCorruptedSegmentsWithoutReadingThem) {
  const std::vector<Bytes> in = Stream(GetParam().traffic);
  const std::vector<OutPkt> out = Run(in, Mode::kBypass);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_FALSE(out[i].list);
    EXPECT_EQ(out[i].bytes, in[i]) << "segment " << i;
  }
  EXPECT_EQ(ctx_->counters().bypass, in.size());
  EXPECT_EQ(sw_verifications_, 0u) << "BYPASS read payloads for checksums";
}

// MERGE still checks every segment without a NIC verdict, and a corrupted
// one leaves alone, as it came, between merged packets of the others.
TEST_P(ChecksumModeTest, MergeVerifiesAndNeverMergesACorruptedSegment) {
  const std::vector<Bytes> in = Stream(GetParam().traffic);
  const std::vector<OutPkt> out = Run(in, Mode::kMerge);
  ExpectCorruptedLeftAlone(out, in);
  EXPECT_EQ(ctx_->counters().passthrough[kPassBadChecksum], 2u);
  EXPECT_EQ(ctx_->counters().segments_merged, in.size() - 2);
  // Every segment was read (the fast path may read a segment twice when it
  // hands it to the rule engine, never less than once).
  EXPECT_GE(sw_verifications_, in.size());
}

// A NIC verdict of GOOD is trusted: MERGE reads no payload then either.
TEST_P(ChecksumModeTest, MergeTrustsAGoodNicVerdictWithoutReading) {
  std::vector<Bytes> in = Stream(GetParam().traffic);
  for (int c : kCorrupt) {  // (the verdict would be BAD for these)
    in.erase(in.begin() + c - (c == kCorrupt[0] ? 0 : 1));
  }
  const std::vector<OutPkt> out =
      Run(in, Mode::kMerge,
          RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD);
  EXPECT_EQ(ctx_->counters().segments_merged, in.size());
  EXPECT_EQ(sw_verifications_, 0u);
}

// ProcessBurst() takes the mode per call, so one context may serve both:
// the NIC verdicts it accepts at once are fixed with its config, but chosen
// by each burst's mode.  LIST links every segment unread whatever its
// verdict (BAD included); MERGE in the same context still verifies without
// a verdict, trusts GOOD, and passes the corrupted segments.
TEST_P(ChecksumModeTest, OneContextJudgesVerdictsByEachBurstsMode) {
  ContextConfig cfg;
  cfg.verify_checksums = true;
  Make(cfg);
  const std::vector<Bytes> in = Stream(GetParam().traffic);
  const uint64_t good =
      RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  const uint64_t bad = RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  struct Round {
    Mode mode;
    uint64_t flags, corrupt_flags;  // rx verdicts: other / corrupted segments
  };
  const Round rounds[] = {{Mode::kList, bad, bad},
                          {Mode::kMerge, 0, 0},
                          {Mode::kList, 0, 0},
                          {Mode::kMerge, good, bad},
                          {Mode::kList, good, bad}};
  for (const Round& r : rounds) {
    SCOPED_TRACE(r.mode == Mode::kList ? "LIST" : "MERGE");
    SCOPED_TRACE(r.flags);
    const Counters before = ctx_->counters();
    const std::vector<OutPkt> out = FeedAll(in, r.mode, [&](int i) {
      return IsCorrupt(i) ? r.corrupt_flags : r.flags;
    });
    const Counters& after = ctx_->counters();
    if (r.mode == Mode::kList) {
      ExpectOneListOfAll(out, in);
      EXPECT_EQ(after.passthrough[kPassBadChecksum],
                before.passthrough[kPassBadChecksum]);
      EXPECT_EQ(sw_verifications_, 0u) << "LIST read payloads for checksums";
    } else {
      ExpectCorruptedLeftAlone(out, in);
      EXPECT_EQ(after.passthrough[kPassBadChecksum] -
                    before.passthrough[kPassBadChecksum],
                2u);
      // Without a verdict every segment is read; with one, none is.
      if (r.flags == 0) {
        EXPECT_GE(sw_verifications_, in.size());
      } else {
        EXPECT_EQ(sw_verifications_, 0u);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ChecksumModeTest,
    ::testing::Values(Case{Traffic::kTcp4, false}, Case{Traffic::kTcp4, true},
                      Case{Traffic::kTcp6, false}, Case{Traffic::kTcp6, true},
                      Case{Traffic::kUdp4, false}, Case{Traffic::kUdp4, true}),
    Name);

}  // namespace
}  // namespace grod::gro::testing
