// MERGE towards a port that cannot take a merged packet whole (no TSO): the
// GRO stage links the packets instead (LIST), so every frame leaves exactly
// as it came and no payload is read for a checksum -- a corrupted segment
// leaves intact inside the stream, not counted as a checksum failure.
// Towards a TSO port MERGE still verifies and refuses the corrupted
// segment, as it does towards a no-TSO port configured to segment merged
// packets in software.  A vhost-user guest turning TSO off and on again
// switches the flow's mode without reordering it.  Frames are checked with this
// file's own byte reader (untagged IPv4, no options), not the engine's parser.
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/guest_offloads.h"
#include "dataplane/runtime/worker.h"
#include "dataplane/testing/egress_port.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frame = std::vector<uint8_t>;
using Frames = std::vector<Frame>;

constexpr size_t kMss = 1448;
constexpr size_t kTcp = 14 + 20;  // TCP header offset in TcpFrame's frames

uint32_t Get16(const Frame& f, size_t at) { return f[at] << 8 | f[at + 1]; }
uint32_t Get32(const Frame& f, size_t at) {
  return Get16(f, at) << 16 | Get16(f, at + 2);
}
uint16_t SourcePort(const Frame& f) { return Get16(f, kTcp); }
uint32_t Seq(const Frame& f) { return Get32(f, kTcp + 4); }
// TCP payload, bounded by the IPv4 total length (not the frame's size).
std::string Payload(const Frame& f) {
  const size_t ip_end = 14 + Get16(f, 16);
  const size_t start = kTcp + (f[kTcp + 12] >> 4) * 4;
  return std::string(f.begin() + start, f.begin() + ip_end);
}

// `flows` flows of `segs` MSS segments each, interleaved in a seeded
// random order (each flow's own segments in sequence order).
Frames InterleavedFlows(int flows, int segs, uint32_t seed) {
  std::vector<int> order;
  for (int f = 0; f < flows; ++f) order.insert(order.end(), segs, f);
  std::mt19937 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<uint32_t> next(flows, 1);
  Frames frames;
  for (const int f : order) {
    FlowAddress a;
    a.sport = uint16_t(30000 + f);
    frames.push_back(TcpFrame(a, next[f], kMss));
    next[f] += kMss;
  }
  return frames;
}

// Per source port, the frames in the order they left.
std::map<uint16_t, Frames> ByFlow(const Frames& frames) {
  std::map<uint16_t, Frames> flows;
  for (const Frame& f : frames) flows[SourcePort(f)].push_back(f);
  return flows;
}

class MergeAsListTest : public ::testing::Test {
 protected:
  static inline int next_ = 0;

  void SetUp() override {
    port_ =
        std::make_unique<testing::EgressPort>("mal" + std::to_string(next_++));
    ASSERT_TRUE(port_->ok()) << port_->error();
    id_ = port_->id();
  }

  // `caps` for the port, and a vhost-user guest table if `guest`.
  void Start(const PortCapabilities& caps, bool guest = false) {
    port_->caps() = caps;
    Egress::Ports ports = port_->ports();
    if (guest) {
      guests_.ports[0] = id_;
      guests_.count = 1;
      ports.guests = &guests_;
    }
    egress_ = std::make_unique<Egress>(0, ports, counters_);
    stage_ = std::make_unique<GroStage>(4789, egress_.get());
    snap_.unmatched_slot = 0;
    TenantRuntime& t = snap_.tenants[0];
    t.active = true;
    t.default_mode = GroMode::kMerge;
    t.flush_kind = FlushKind::kTimeout;
    t.timeout_tsc = 1'000'000'000;  // never due: the test flushes
    WorkerCommand create{WorkerCommand::Kind::kCreate, 0, {}};
    gro::ContextConfig cfg;
    cfg.verify_checksums = true;  // grod's default
    create.config = cfg;
    ASSERT_TRUE(stage_->Execute(create));
  }

  void TearDown() override {
    stage_.reset();
    if (egress_) egress_->FlushAll();
    port_->ring().Collect();
    EXPECT_EQ(port_->ring().InjectPoolInUse(), 0u) << "an injected mbuf leaked";
    EXPECT_EQ(port_->InUse(), 0u) << "a GSO mbuf leaked";
    port_.reset();
  }

  // Worker::Run's iterations until the RX ring is empty, then `flush`.
  Frames Run(const Frames& in, bool flush = true) {
    port_->ring().Inject(in);
    uint16_t n;
    do {
      rte_mbuf* pkts[Worker::kBurst];
      n = rte_eth_rx_burst(id_, 0, pkts, Worker::kBurst);
      for (uint16_t i = 0; i < n; ++i) pkts[i]->port = id_;
      stage_->BeginIteration(snap_);
      if (n != 0) stage_->ProcessBurst(snap_, pkts, n, 100);
      stage_->FlushByPolicy(snap_, 100, n == Worker::kBurst);
      egress_->FlushAll();
    } while (n != 0);
    if (flush) {
      stage_->FlushAll(gro::kFlushExplicit);
      egress_->FlushAll();
    }
    return port_->ring().Collect();
  }

  TenantCounters Counters() const {
    TenantCounters c;
    stage_->AddCounters(0, &c);
    return c;
  }
  static uint64_t At(const std::map<std::string, uint64_t>& m,
                     const std::string& key) {
    const auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  }

  std::unique_ptr<testing::EgressPort> port_;
  uint16_t id_ = 0;
  PortLcoreCounters counters_[RTE_MAX_ETHPORTS];
  GuestOffloadTable guests_;
  std::unique_ptr<Egress> egress_;
  std::unique_ptr<GroStage> stage_;
  ConfigSnapshot snap_;
};

PortCapabilities NoTso() {
  PortCapabilities c;  // what net_null, net_ring and net_pcap report
  c.multi_segment_tx = true;
  return c;
}

PortCapabilities Tso() {
  PortCapabilities c = NoTso();
  c.tcp_tso = c.ipv4_checksum = c.tcp_checksum = true;
  return c;
}

// One corrupted segment (a payload byte flipped, the checksum left as it
// was) in the middle of flow 3.
Frames WithCorruption(Frames in, size_t* bad) {
  int seen = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (SourcePort(in[i]) == 30003 && ++seen == 5) {
      in[i][kTcp + 20 + 100] ^= 0x5a;
      *bad = i;
      return in;
    }
  }
  ADD_FAILURE() << "no 5th segment of flow 3";
  return in;
}

TEST_F(MergeAsListTest, NoTsoPortGetsEveryFrameAsItCameAndNothingIsVerified) {
  Start(NoTso());
  size_t bad = 0;
  const Frames in = WithCorruption(InterleavedFlows(8, 20, /*seed=*/15), &bad);
  const Frames out = Run(in);

  ASSERT_EQ(out.size(), in.size());
  const auto want = ByFlow(in), got = ByFlow(out);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [sport, frames] : want) {
    ASSERT_EQ(got.at(sport).size(), frames.size()) << "flow " << sport;
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_TRUE(got.at(sport)[i] == frames[i])
          << "flow " << sport << " frame " << i << " changed or moved";
    }
  }
  const TenantCounters c = Counters();
  EXPECT_EQ(At(c.passthrough, "bad_checksum"), 0u)
      << "LIST reads no payload for its checksum";
  EXPECT_EQ(c.merged_packets_out, 0u);
  EXPECT_EQ(c.segments_listed, in.size()) << "every segment linked";
  EXPECT_EQ(c.merge_as_list_packets, in.size());
  EXPECT_EQ(counters_[id_].gso_segments, 0u) << "no software GSO";
  EXPECT_EQ(counters_[id_].tx_dropped, 0u);
}

// ports[].merged_without_tso: SEGMENT_IN_SOFTWARE on the same no-TSO port:
// MERGE merges again (and verifies: the corrupted segment is refused) and
// software GSO cuts the merged packets back into MSS frames; nothing is
// linked.  The frames out are the same payload in the same order per flow,
// each with valid checksums (recomputed by GSO), not the frames in as they
// came for every one of them.
TEST_F(MergeAsListTest, SegmentInSoftwareOnNoTsoPortMergesAndCutsBack) {
  PortCapabilities caps = NoTso();
  caps.segment_merged_in_software = true;
  Start(caps);
  size_t bad = 0;
  const Frames in = WithCorruption(InterleavedFlows(8, 20, /*seed=*/15), &bad);
  const Frames out = Run(in);

  const TenantCounters c = Counters();
  EXPECT_EQ(c.merge_as_list_packets, 0u) << "nothing linked";
  EXPECT_GT(c.merged_packets_out, 0u);
  EXPECT_EQ(At(c.passthrough, "bad_checksum"), 1u) << "MERGE verifies";
  EXPECT_GT(counters_[id_].gso_segments, 0u) << "software GSO cut them";
  EXPECT_EQ(counters_[id_].tx_dropped, 0u);
  ASSERT_EQ(out.size(), in.size()) << "MSS segments in, MSS frames out";
  EXPECT_EQ(std::count(out.begin(), out.end(), in[bad]), 1);
  const auto want = ByFlow(in), got = ByFlow(out);
  for (const auto& [sport, frames] : want) {
    std::string want_bytes, got_bytes;
    uint32_t last_seq = 0;
    for (const Frame& f : frames) want_bytes += Payload(f);
    for (const Frame& f : got.at(sport)) {
      EXPECT_LE(Payload(f).size(), kMss) << "flow " << sport;
      EXPECT_GT(Seq(f), last_seq) << "flow " << sport << " reordered";
      last_seq = Seq(f);
      got_bytes += Payload(f);
    }
    EXPECT_TRUE(want_bytes == got_bytes) << "flow " << sport;
  }
}

// The port-level decision itself: no kind whole without TSO, every kind
// (each plain and VXLAN kind, IPv4 and IPv6, TCP and UDP) when configured to
// segment in software; TSO alone gives plain IPv4/IPv6 TCP only.
TEST(MergedWholeMaskTest, SegmentInSoftwareTakesEveryKind) {
  PortCapabilities caps = NoTso();
  EXPECT_EQ(MergedWholeMask(caps, 0), 0u);
  caps.segment_merged_in_software = true;
  // Kinds 0-7 (plain and VXLAN over IPv4) and 12-15 (VXLAN over IPv6);
  // 8-11 (outer IPv6 without VXLAN) are not kinds.
  EXPECT_EQ(MergedWholeMask(caps, 0), 0xf0ffu);
  EXPECT_EQ(MergedWholeMask(Tso(), 0), 0b11u);
}

TEST_F(MergeAsListTest, TsoPortStillGetsMergedPacketsButNotTheCorruptedOne) {
  Start(Tso());
  size_t bad = 0;
  const Frames in = WithCorruption(InterleavedFlows(8, 20, /*seed=*/15), &bad);
  const Frames out = Run(in);

  const TenantCounters c = Counters();
  EXPECT_EQ(At(c.passthrough, "bad_checksum"), 1u);
  EXPECT_GT(c.merged_packets_out, 0u);
  EXPECT_EQ(c.merge_as_list_packets, 0u);
  EXPECT_LT(out.size(), in.size()) << "merged packets leave whole (TSO)";
  // The corrupted segment leaves once, byte for byte, on its own; every
  // flow's payload is intact and in order around it.
  EXPECT_EQ(std::count(out.begin(), out.end(), in[bad]), 1);
  const auto want = ByFlow(in), got = ByFlow(out);
  for (const auto& [sport, frames] : want) {
    std::string want_bytes, got_bytes;
    for (const Frame& f : frames) want_bytes += Payload(f);
    for (const Frame& f : got.at(sport)) got_bytes += Payload(f);
    EXPECT_TRUE(want_bytes == got_bytes) << "flow " << sport;
  }
}

// A guest turning TSO off while its flow is held merged, and on again while
// it is held linked: what was held leaves before the next packet (flush
// reason "mismatch"), so the flow stays in order.
TEST_F(MergeAsListTest, GuestTurningTsoOffAndOnKeepsItsFlowInOrder) {
  PortCapabilities vhost = NoTso();  // net_vhost reports no TSO
  vhost.tcp_checksum = vhost.udp_checksum = true;
  Start(vhost, /*guest=*/true);
  const auto set_guest = [&](uint8_t bits) {
    guests_.state[id_].store(GuestState(bits, 200000),
                             std::memory_order_release);
    egress_->FlushAll();  // read once per iteration
  };
  const uint8_t tso = kGuestTso4 | kGuestCsum | kGuestMrgRxbuf;
  set_guest(tso);
  const Frames in = InterleavedFlows(1, 12, /*seed=*/3);
  const Frames a(in.begin(), in.begin() + 4), b(in.begin() + 4, in.begin() + 8),
      rest(in.begin() + 8, in.end());

  EXPECT_TRUE(Run(a, /*flush=*/false).empty()) << "held (merged)";
  set_guest(0);
  Frames out = Run(b, /*flush=*/false);
  EXPECT_EQ(out.size(), 4u) << "the merged 4, cut by software GSO";
  EXPECT_EQ(counters_[id_].gso_segments, 4u);
  EXPECT_EQ(Counters().merge_as_list_packets, 4u);
  set_guest(tso);
  Frames more = Run(rest, /*flush=*/true);
  out.insert(out.end(), more.begin(), more.end());
  EXPECT_EQ(Counters().flushes.at("mismatch"), 2u);
  EXPECT_EQ(Counters().merged_packets_out, 2u);
  EXPECT_EQ(Counters().list_packets_out, 1u);

  // Segments 0-3 (GSO'd), 4-7 (as they came), 8-11 (one TSO packet).
  ASSERT_EQ(out.size(), 9u);
  std::string want_bytes, got_bytes;
  for (const Frame& f : in) want_bytes += Payload(f);
  uint32_t last_seq = 0;
  for (const Frame& f : out) {
    EXPECT_GT(Seq(f), last_seq) << "reordered";
    last_seq = Seq(f);
    got_bytes += Payload(f);
  }
  EXPECT_TRUE(want_bytes == got_bytes);
  for (size_t i = 4; i < 8; ++i) EXPECT_TRUE(out[i] == in[i]) << i;
}

}  // namespace
}  // namespace grod::dataplane
