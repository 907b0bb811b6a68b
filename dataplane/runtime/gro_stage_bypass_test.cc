// GroStage over a ring-backed port, as Worker::PollQueue drives it
// (ProcessPortBurst): a port whose packets all go to one BYPASS tenant
// without route hints -- or to no tenant -- is forwarded whole and unread,
// byte for byte, corrupted checksums and malformed frames included; what
// the tenant held before it switched to BYPASS leaves first; a selector
// that looks at headers keeps the per-packet path.  LIST, checked the same
// way, also leaves every byte as it came (no checksum verification).
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/worker.h"
#include "dataplane/testing/egress_port.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/gro_stage_fixture.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;

constexpr size_t kMss = 1448;
constexpr uint64_t kLongTimeout = 1'000'000'000;  // TSC; nothing times out

// Segments [first, first + count) of each of `flows` TCP flows, flows
// interleaved, optionally VLAN-tagged.
Frames Segments(int flows, uint32_t first, uint32_t count, uint16_t vlan = 0) {
  Frames frames;
  for (uint32_t s = first; s < first + count; ++s) {
    for (int i = 0; i < flows; ++i) {
      FlowAddress a;
      a.sport = uint16_t(30000 + i);
      a.vlan = vlan;
      frames.push_back(TcpFrame(a, 1 + s * kMss, kMss));
    }
  }
  return frames;
}

// An adversarial mix, seeded: TCP segments with a wrong TCP or IPv4
// header checksum, VLAN-tagged ones, UDP datagrams, and frames that are
// not IP at all or cut short.
Frames HostileMix(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  Frames frames;
  for (int i = 0; i < count; ++i) {
    FlowAddress a;
    a.sport = uint16_t(40000 + rng() % 8);
    std::vector<uint8_t> f;
    switch (rng() % 6) {
      case 0:  // wrong TCP checksum (offset 14 + 20 + 16)
        f = TcpFrame(a, 1 + i * kMss, kMss);
        f[50] ^= 0x5a;
        break;
      case 1:  // wrong IPv4 header checksum
        f = TcpFrame(a, 1 + i * kMss, kMss);
        f[24] ^= 0xa5;
        break;
      case 2:
        a.vlan = uint16_t(1 + rng() % 4000);
        f = TcpFrame(a, 1 + i * kMss, 100 + rng() % 1300);
        break;
      case 3:
        f = UdpFrame(a, i, 10 + rng() % 1400);
        break;
      case 4:  // not IP: random bytes behind an unknown EtherType
        f.resize(60 + rng() % 200);
        for (auto& b : f) b = uint8_t(rng());
        f[12] = 0x88;
        f[13] = 0xb5;
        break;
      default:  // truncated TCP/IPv4: the IP length claims more
        f = TcpFrame(a, 1 + i * kMss, kMss);
        f.resize(14 + 20 + 10 + rng() % 100);
        break;
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

class GroStageBypassTest : public testing::GroStageFixture {
 protected:
  void AddTenant(uint16_t slot, GroMode mode, bool verify_checksums = true) {
    TenantRuntime& t = snap_->tenants[slot];
    t.active = true;
    t.default_mode = mode;
    t.flush_kind = FlushKind::kTimeout;
    t.timeout_tsc = kLongTimeout;
    WorkerCommand create{WorkerCommand::Kind::kCreate, slot, {}};
    create.config.verify_checksums = verify_checksums;
    ASSERT_TRUE(stage_->Execute(create));
  }

  // Worker::Run's iteration with one RX queue (PollQueue's bookkeeping
  // included); returns the packets received.
  uint16_t Iterate(uint64_t now = 100) {
    stage_->BeginIteration(*snap_);
    rte_mbuf* pkts[Worker::kBurst];
    const uint16_t n = rte_eth_rx_burst(id_, 0, pkts, Worker::kBurst);
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < n; ++i) {
      bytes += pkts[i]->pkt_len;
      pkts[i]->port = id_;
    }
    if (n != 0) stage_->ProcessPortBurst(*snap_, id_, pkts, n, bytes, now);
    stage_->FlushByPolicy(*snap_, now, n == Worker::kBurst);
    egress_->FlushAll();
    return n;
  }
  void ReceiveAll() {
    while (Iterate() != 0) {
    }
  }
};

uint64_t Bytes(const Frames& frames) {
  uint64_t n = 0;
  for (const auto& f : frames) n += f.size();
  return n;
}

TEST_F(GroStageBypassTest, PortLevelBypassTenantGetsEveryFrameUnread) {
  ASSERT_TRUE(snap_->classifier.Add({id_, std::nullopt, std::nullopt}, 3).ok());
  AddTenant(3, GroMode::kBypass);
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], 3);

  const Frames in = HostileMix(/*seed=*/7, 500);
  ASSERT_GT(SplitFlows(in).bad_checksums, 0) << "the mix must hold bad ones";
  port_->ring().Inject(in);
  ReceiveAll();
  const std::vector<rte_mbuf*> out = port_->ring().CollectMbufs();
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const rte_mbuf* m = out[i];
    ASSERT_EQ(m->pkt_len, in[i].size()) << "frame " << i;
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    EXPECT_TRUE(std::equal(in[i].begin(), in[i].end(), d)) << "frame " << i;
    // Never parsed: the engine describes every packet it passes
    // (packet_type, l2_len); these kept what RX gave them.
    EXPECT_EQ(m->packet_type, 0u) << "frame " << i;
    EXPECT_EQ(m->l2_len, 0u) << "frame " << i;
  }
  for (rte_mbuf* m : out) rte_pktmbuf_free(m);

  const TenantCounters c = Counters(3);
  EXPECT_EQ(c.packets_in, in.size());
  EXPECT_EQ(c.bytes_in, Bytes(in));
  EXPECT_EQ(c.packets_out, in.size());
  EXPECT_EQ(c.bypass_packets, in.size());
  EXPECT_EQ(c.passthrough.at("bypass"), in.size());
  EXPECT_EQ(c.segments_per_output.at(0), in.size());
  EXPECT_EQ(stage_->unmatched_packets(), 0u);
  EXPECT_EQ(counters_[id_].tx_packets, in.size());
}

TEST_F(GroStageBypassTest, NoTenantAtAllForwardsWholeAsUnmatched) {
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], Classifier::kNoTenant);
  const Frames in = HostileMix(/*seed=*/11, 200);
  port_->ring().Inject(in);
  ReceiveAll();
  EXPECT_EQ(port_->ring().Collect(), in);
  EXPECT_EQ(stage_->unmatched_packets(), in.size());
  EXPECT_EQ(stage_->unmatched_bytes(), Bytes(in));
}

TEST_F(GroStageBypassTest, WholeBurstsStillMeetTheTxPortsMtu) {
  ASSERT_TRUE(snap_->classifier.Add({id_, std::nullopt, std::nullopt}, 0).ok());
  AddTenant(0, GroMode::kBypass);
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], 0);
  port_->caps().mtu = 1000;       // the TX port takes less than these carry
  Frames in = Segments(3, 0, 4);  // 1514 bytes, DF: cannot be fragmented
  for (size_t i = 0; i < in.size(); i += 3) in[i].resize(600);  // cut short
  port_->ring().Inject(in);
  ReceiveAll();
  const Frames out = port_->ring().Collect();
  size_t fits = 0;
  for (const auto& f : in) fits += f.size() <= 1000 + 14;
  ASSERT_GT(fits, 0u);
  EXPECT_EQ(out.size(), fits);
  for (const auto& f : out) EXPECT_LE(f.size(), 1000u + 14);
  EXPECT_EQ(counters_[id_].tx_dropped, in.size() - fits);
  EXPECT_EQ(counters_[id_].tx_drops[kTxDropTooBig], in.size() - fits);
  EXPECT_EQ(Counters(0).packets_in, in.size()) << "every mbuf accounted";
}

// A tenant that merged until now is switched to BYPASS by a new snapshot
// (same context): the segments it holds leave before the bypassed ones
// of the same flows.
TEST_F(GroStageBypassTest, HeldSegmentsLeaveBeforeTheFirstWholeBurst) {
  ASSERT_TRUE(snap_->classifier.Add({id_, std::nullopt, std::nullopt}, 5).ok());
  AddTenant(5, GroMode::kMerge);
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], ConfigSnapshot::kPerPacket);
  const Frames before = Segments(6, 0, 3);
  port_->ring().Inject(before);
  ReceiveAll();
  ASSERT_EQ(Counters(5).held_flows, 6u);
  ASSERT_TRUE(port_->ring().Collect().empty());

  snap_->tenants[5].default_mode = GroMode::kBypass;
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], 5);
  const Frames after = Segments(6, 3, 5);
  port_->ring().Inject(after);
  ReceiveAll();
  const Frames out = port_->ring().Collect();
  Frames in = before;
  in.insert(in.end(), after.begin(), after.end());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  EXPECT_EQ(Counters(5).held_packets, 0u);
  EXPECT_EQ(Counters(5).flushes.at("passthrough"), 6u);
  EXPECT_EQ(Counters(5).bypass_packets, after.size());
  EXPECT_EQ(Counters(5).packets_in, in.size());
}

// A VLAN selector on the port: the headers decide, packet by packet.
TEST_F(GroStageBypassTest, AVlanSelectorOnThePortKeepsPerPacketClassifying) {
  ASSERT_TRUE(snap_->classifier.Add({id_, std::nullopt, std::nullopt}, 0).ok());
  ASSERT_TRUE(snap_->classifier.Add({id_, 10, std::nullopt}, 1).ok());
  AddTenant(0, GroMode::kBypass);
  AddTenant(1, GroMode::kMerge);
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], ConfigSnapshot::kPerPacket);
  const Frames plain = Segments(2, 0, 4);
  const Frames tagged = Segments(2, 0, 4, /*vlan=*/10);
  port_->ring().Inject(plain);
  port_->ring().Inject(tagged);
  ReceiveAll();
  stage_->FlushAll(gro::kFlushExplicit);
  egress_->FlushAll();
  const Frames out = port_->ring().Collect();
  Frames in = plain;
  in.insert(in.end(), tagged.begin(), tagged.end());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  EXPECT_EQ(Counters(0).bypass_packets, plain.size());
  EXPECT_EQ(Counters(1).packets_in, tagged.size());
  // Held and emitted together, merged or (towards a port without TSO)
  // linked: either way through tenant 1's GRO, not bypassed.
  EXPECT_EQ(Counters(1).bypass_packets, 0u);
  EXPECT_EQ(Counters(1).segments_merged + Counters(1).segments_listed,
            tagged.size());
}

// LIST with checksum verification on: corrupted segments are listed and
// leave exactly as they came (LIST rewrites no byte, so the receiver
// still sees the corruption).
TEST_F(GroStageBypassTest, ListLeavesCorruptedSegmentsByteIdentical) {
  ASSERT_TRUE(snap_->classifier.Add({id_, std::nullopt, std::nullopt}, 2).ok());
  AddTenant(2, GroMode::kList, /*verify_checksums=*/true);
  FindWholePorts(snap_.get());
  ASSERT_EQ(snap_->whole_port[id_], ConfigSnapshot::kPerPacket);
  Frames in = Segments(4, 0, 8);
  std::mt19937 rng(3);
  for (auto& f : in) {
    if (rng() % 3 == 0) f[50] ^= uint8_t(1 + rng() % 255);  // TCP checksum
  }
  const int bad = SplitFlows(in).bad_checksums;
  ASSERT_GT(bad, 0);
  port_->ring().Inject(in);
  ReceiveAll();
  stage_->FlushAll(gro::kFlushExplicit);
  egress_->FlushAll();
  Frames out = port_->ring().Collect();
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(out)), "");
  EXPECT_EQ(SplitFlows(out).bad_checksums, bad);
  Frames want = in;
  std::sort(want.begin(), want.end());
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, want) << "every frame byte-identical";
  EXPECT_EQ(Counters(2).segments_listed, in.size());
}

}  // namespace
}  // namespace grod::dataplane
