// Egress of merged packets: a TSO port takes a merged chain whole unless it
// is a BIG TCP packet (past 64 KiB) larger than the port's configured
// tso_max_bytes, which software GSO cuts back into the original segments.
#include "dataplane/runtime/egress.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/egress_fixture.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;

constexpr size_t kMss = 1400;

class EgressTest : public testing::EgressPortTest {
 protected:
  void SetUp() override {
    EgressPortTest::SetUp();
    if (HasFatalFailure()) return;
    // The ring PMD transmits chains as they are: it stands in for a NIC
    // with TSO here, so what leaves shows which way egress chose.
    // (TSO rewrites the IPv4 header per segment: it needs the IPv4
    // checksum offload as well.)
    port_->caps().tcp_tso = true;
    port_->caps().ipv4_checksum = true;
    port_->caps().multi_segment_tx = true;
  }

  // `segs` in-order segments of one flow merged by the engine (BIG TCP
  // allowed), sent through egress; returns what the port transmitted.
  Frames MergeAndSend(uint32_t segs, uint32_t tso_max_bytes) {
    port_->caps().tso_max_bytes = tso_max_bytes;
    gro::ContextConfig cfg;
    cfg.max_merged_bytes = gro::kMaxBigMergedBytes;
    sent_.clear();
    FlowAddress a;
    std::vector<rte_mbuf*> segments;
    for (uint32_t i = 0; i < segs; ++i) {
      sent_.push_back(TcpFrame(a, 1 + i * kMss, kMss));
      segments.push_back(ToMbuf(sent_.back()));
    }
    const std::vector<rte_mbuf*> out_pkts =
        testing::ThroughEngine(segments, gro::Mode::kMerge, cfg);
    PortLcoreCounters counters[RTE_MAX_ETHPORTS];
    Egress egress(0, port_->ports(), counters);
    for (rte_mbuf* m : out_pkts) egress.SendGro(m);
    egress.FlushAll();
    gso_segments_ = counters[id_].gso_segments;
    return port_->ring().CollectAtLeast(out_pkts.size());
  }

  Frames sent_;
  uint64_t gso_segments_ = 0;
};

TEST_F(EgressTest, MergedWithin64KGoesToTsoWhole) {
  const Frames wire = MergeAndSend(40, 65535);  // 56000 payload bytes
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_EQ(wire[0].size(), 54 + 40 * kMss);
  EXPECT_EQ(gso_segments_, 0u);
}

TEST_F(EgressTest, BigTcpPastTheNicLimitIsSegmentedInSoftware) {
  const Frames wire = MergeAndSend(60, 65535);  // 84000: BIG TCP
  // The original segments, in order, byte for byte (IPv4 ID and header
  // checksum aside: the builder sends ID 0 each time, GSO counts up).
  ASSERT_EQ(wire.size(), sent_.size());
  EXPECT_EQ(gso_segments_, sent_.size());
  for (size_t i = 0; i < wire.size(); ++i) {
    std::vector<uint8_t> want = sent_[i], got = wire[i];
    for (size_t off : {18, 19, 24, 25}) want[off] = got[off] = 0;
    EXPECT_EQ(got, want) << "segment " << i;
  }
}

TEST_F(EgressTest, BigTcpWithinAConfiguredNicLimitGoesToTsoWhole) {
  const Frames wire = MergeAndSend(60, 128 * 1024);
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_EQ(wire[0].size(), 54 + 60 * kMss);
  EXPECT_EQ(wire[0][16], 0);  // IPv4 total length 0: BIG TCP
  EXPECT_EQ(wire[0][17], 0);
  EXPECT_EQ(gso_segments_, 0u);
}

}  // namespace
}  // namespace grod::dataplane
