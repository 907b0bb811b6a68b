// Merge rules where grod must behave as Linux GRO does: the TCP flag/window
// word (any difference but CWR/FIN/PSH flushes), the NIC's checksum
// verdicts (RX_L4_CKSUM_NONE: data valid, checksum field partial), UDP
// with checksum 0 (never merged), and packets a NIC or virtual device
// already aggregated (RX_LRO, or a GSO packet from a VM).  Each rule is
// checked on the full path (Parse + Process) and on the fast path
// (ProcessBurst: templates and the streaming loop) alike.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr size_t kL4 = 14 + 20;  // plain IPv4 TCP/UDP

// The pass-through counter named `name` (-1: no such reason).
int64_t PassCount(const Context& c, const std::string& name) {
  for (int r = 0; r < kPassReasonCount; ++r) {
    if (name == kPassReasonNames[r])
      return int64_t(c.counters().passthrough[r]);
  }
  return -1;
}

void SetWord(Bytes* b, size_t off, uint16_t v) {
  (*b)[off] = uint8_t(v >> 8);
  (*b)[off + 1] = uint8_t(v);
}

// In-order TCP segments of 100 bytes; `edit(i, frame)` changes segment i.
std::vector<Bytes> Segments(int n, void (*edit)(int, Bytes*)) {
  std::vector<Bytes> v;
  for (int i = 0; i < n; ++i) {
    Bytes b = Build(TcpSegment(1000 + 100 * i, 100));
    if (edit != nullptr) {
      edit(i, &b);
      FixChecksums(&b);
    }
    v.push_back(b);
  }
  return v;
}

class MergeRules : public EngineTest,
                   public ::testing::WithParamInterface<bool> {
 protected:
  bool fast() const { return GetParam(); }
  // Feeds frames (with RX ol_flags / tso_segsz as given) by the path
  // under test; returns the number of original segments of each output.
  std::vector<int> Run(const std::vector<Bytes>& frames, uint64_t rx_flags = 0,
                       uint16_t tso_segsz = 0, int only = -1) {
    std::vector<rte_mbuf*> ms;
    for (size_t i = 0; i < frames.size(); ++i) {
      rte_mbuf* m = ToMbuf(pool_, frames[i]);
      if (only < 0 || int(i) == only) {
        m->ol_flags |= rx_flags;
        m->tso_segsz = tso_segsz;
      }
      ms.push_back(m);
    }
    if (fast()) {
      ctx_->ProcessBurst(ms.data(), uint16_t(ms.size()), Mode::kMerge, 0,
                         &col_.out);
    } else {
      for (rte_mbuf* m : ms) {
        ParsedPacket p;
        Parse(m, ParseConfig{}, &p);
        ctx_->Process(m, p, Mode::kMerge, 0, &col_.out);
      }
    }
    std::vector<int> segs;
    outs_ = Out();
    for (const OutPkt& o : outs_) segs.push_back(o.nb_segs);
    return segs;
  }
  std::vector<OutPkt> outs_;
};

// A window update mid-stream ends the merge (Linux: tcp_gro_receive
// flushes on any difference in the flag/window word but CWR/FIN/PSH).
TEST_P(MergeRules, WindowChangeFlushes) {
  Make();
  auto in = Segments(
      8, [](int i, Bytes* b) { SetWord(b, kL4 + 14, i < 5 ? 1000 : 2000); });
  EXPECT_EQ(Run(in), (std::vector<int>{5, 3}));
  EXPECT_EQ(ctx_->counters().flushes[kFlushMismatch], 1u);
}

// The same window throughout: one merged packet (the rule above is not
// "never merge").
TEST_P(MergeRules, SameWindowMerges) {
  Make();
  auto in = Segments(8, [](int, Bytes* b) { SetWord(b, kL4 + 14, 777); });
  EXPECT_EQ(Run(in), (std::vector<int>{8}));
}

// A reserved bit (or AE/NS) in the word differs: flush.
TEST_P(MergeRules, ReservedBitChangeFlushes) {
  Make();
  auto in = Segments(6, [](int i, Bytes* b) {
    if (i >= 3) (*b)[kL4 + 12] |= 0x01;
  });
  EXPECT_EQ(Run(in), (std::vector<int>{3, 3}));
}

// ACK flag present, then absent (data without ACK): flush.
TEST_P(MergeRules, AckFlagChangeFlushes) {
  Make();
  auto in = Segments(6, [](int i, Bytes* b) {
    if (i >= 2) (*b)[kL4 + 13] &= uint8_t(~0x10);
  });
  EXPECT_EQ(Run(in), (std::vector<int>{2, 4}));
}

// RTE_MBUF_F_RX_L4_CKSUM_NONE (virtio/vhost): the data is valid, the
// checksum field holds only a partial (pseudo-header) sum.  With
// verification on such packets merge; the merged packet carries the TSO
// pseudo-header sum (what TSO / Segment() complete), whatever the inputs
// held.
TEST_P(MergeRules, L4ChecksumNoneIsValidDataAndMerges) {
  ContextConfig cfg;
  cfg.verify_checksums = true;
  Make(cfg);
  auto in = Segments(4, [](int, Bytes* b) {
    SetWord(b, kL4 + 16, 0x1234);  // partial: not a valid full checksum
  });
  // (Segments() fixed the checksums after the edit: break them again.)
  for (Bytes& b : in) SetWord(&b, kL4 + 16, 0x1234);
  EXPECT_EQ(Run(in, RTE_MBUF_F_RX_L4_CKSUM_NONE | RTE_MBUF_F_RX_IP_CKSUM_GOOD),
            (std::vector<int>{4}));
  EXPECT_EQ(ctx_->counters().passthrough[kPassBadChecksum], 0u);
  PacketSpec want = TcpSegment(1000, 0);
  for (int i = 0; i < 4; ++i) {
    const Bytes p = Payload(100, 1000 + 100 * i);
    want.payload.insert(want.payload.end(), p.begin(), p.end());
  }
  ASSERT_EQ(outs_.size(), 1u);
  EXPECT_EQ(outs_[0].bytes, AsMergedHeaders(Build(want), false));
  EXPECT_TRUE(outs_[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
}

// L4 NONE but no IP verdict: the IPv4 header is still checked (a broken
// one passes), the L4 sum is not.
TEST_P(MergeRules, L4ChecksumNoneStillChecksTheIpHeader) {
  ContextConfig cfg;
  cfg.verify_checksums = true;
  Make(cfg);
  auto in = Segments(3, nullptr);
  for (Bytes& b : in) SetWord(&b, kL4 + 16, 0x1234);
  in[2][14 + 10] ^= 0xff;  // IPv4 header checksum broken
  EXPECT_EQ(Run(in, RTE_MBUF_F_RX_L4_CKSUM_NONE), (std::vector<int>{2, 1}));
  EXPECT_EQ(ctx_->counters().passthrough[kPassBadChecksum], 1u);
}

// UDP with checksum 0: Linux never merges it (udp_gro_receive_segment,
// "requires non zero csum, for symmetry with GSO").  Each passes as is,
// counted, after what its flow held.
TEST_P(MergeRules, UdpZeroChecksumIsNeverMerged) {
  Make();
  std::vector<Bytes> in;
  for (int i = 0; i < 5; ++i) {
    PacketSpec s;
    s.proto = IPPROTO_UDP;
    s.payload = Payload(200, i);
    s.zero_udp_checksum = i >= 2;
    in.push_back(Build(s));
  }
  EXPECT_EQ(Run(in), (std::vector<int>{2, 1, 1, 1}));
  for (size_t i = 1; i < outs_.size(); ++i) {
    EXPECT_EQ(outs_[i].bytes, in[i + 1]) << i;
  }
  EXPECT_EQ(PassCount(*ctx_, "udp_zero_checksum"), 3);
}

// A packet the NIC (RX_LRO, tso_segsz) already coalesced is not one plain
// segment: it passes untouched, after what its flow held, counted; the
// segments after it start a new merge.
TEST_P(MergeRules, NicAggregatedPacketPassesAfterItsFlow) {
  Make();
  auto in = Segments(6, nullptr);
  EXPECT_EQ(Run(in, RTE_MBUF_F_RX_LRO, 50, /*only=*/2),
            (std::vector<int>{2, 1, 3}));
  ASSERT_EQ(outs_.size(), 3u);
  EXPECT_EQ(outs_[1].bytes, in[2]);
  EXPECT_EQ(outs_[1].tso_segsz, 50);
  EXPECT_EQ(PassCount(*ctx_, "aggregated"), 1);
}

// A GSO packet from a VM (TX_TCP_SEG set on receive, as vhost's legacy
// offload mode delivers it): the same.
TEST_P(MergeRules, GsoPacketFromAVmPassesAfterItsFlow) {
  Make();
  auto in = Segments(6, nullptr);
  EXPECT_EQ(Run(in, RTE_MBUF_F_TX_TCP_SEG, 50, /*only=*/3),
            (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(PassCount(*ctx_, "aggregated"), 1);
}

INSTANTIATE_TEST_SUITE_P(Paths, MergeRules, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "fast" : "full";
                         });

}  // namespace
}  // namespace grod::gro::testing
