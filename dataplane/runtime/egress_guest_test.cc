// Egress towards a vhost-user guest and from one: a merged TCP packet goes
// whole (TSO metadata kept) only to a guest that negotiated TSO for its IP
// version with partial checksums and mergeable RX buffers, as of the last
// FlushAll; any other guest gets segments its port can send.  A packet
// aggregated upstream (RX_LRO with tso_segsz, as vhost hands over a
// guest's TSO packet) leaves a port with a smaller MTU cut into valid
// segments.  Frames are checked by the independent frame validator and the
// payload reassembled by the test; every mbuf comes back.
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/guest_offloads.h"
#include "dataplane/runtime/guest_watch.h"
#include "dataplane/testing/egress_fixture.h"
#include "dataplane/testing/frame_validator.h"
#include "dataplane/testing/packet_builder.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using gro::testing::Build;
using gro::testing::Bytes;
using gro::testing::PacketSpec;
using gro::testing::Payload;
using testing::Join;
using testing::TxFrame;

constexpr uint8_t kFullGuest =
    kGuestTso4 | kGuestTso6 | kGuestCsum | kGuestMrgRxbuf;

// The TCP payload of a frame, read from its own headers.
Bytes TcpPayload(const Bytes& b) {
  const size_t l3 = 14;
  const bool v6 = (b[l3] >> 4) == 6;
  const size_t ip_len = v6 ? 40 : (b[l3] & 0xf) * 4;
  const size_t end = v6 ? l3 + 40 + (b[l3 + 4] << 8 | b[l3 + 5])
                        : l3 + (b[l3 + 2] << 8 | b[l3 + 3]);
  const size_t l4 = l3 + ip_len;
  const size_t data = l4 + (b[l4 + 12] >> 4) * 4;
  return Bytes(b.begin() + data, b.begin() + end);
}

class EgressGuestTest : public testing::EgressPortTest {
 protected:
  void SetUp() override {
    EgressPortTest::SetUp();
    if (HasFatalFailure()) return;
    // What net_vhost reports: checksums and chains, no TSO.
    PortCapabilities& c = port_->caps();
    c = PortCapabilities{};
    c.tcp_checksum = c.udp_checksum = true;
    c.multi_segment_tx = true;
    c.mtu = 1500;
    guests_.ports[0] = id_;
    guests_.count = 1;
    counters_ = std::make_unique<PortLcoreCounters[]>(RTE_MAX_ETHPORTS);
    Egress::Ports ports = port_->ports();
    ports.guests = &guests_;
    egress_ = std::make_unique<Egress>(0, ports, counters_.get());
  }

  void TearDown() override {
    egress_.reset();
    EgressPortTest::TearDown();
  }

  // A guest whose rings hold 64 KiB packets unless told otherwise.
  void SetGuest(uint8_t bits, uint32_t max_bytes = 200000) {
    guests_.state[id_].store(GuestState(bits, max_bytes),
                             std::memory_order_release);
  }

  // `n` segments of `mss` bytes of one flow merged by the engine; the
  // payload they carry goes to *payload.
  rte_mbuf* Merged(bool v6, uint32_t n, uint32_t mss, Bytes* payload) {
    std::vector<rte_mbuf*> segments;
    for (uint32_t i = 0; i < n; ++i) {
      PacketSpec s;
      s.v6 = v6;
      if (v6) {
        s.src_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        s.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
      }
      s.seq = 1000 + i * mss;
      s.payload = Payload(mss, i + (v6 ? 100 : 0));
      payload->insert(payload->end(), s.payload.begin(), s.payload.end());
      segments.push_back(ToMbuf(Build(s)));
    }
    const std::vector<rte_mbuf*> outs =
        testing::ThroughEngine(segments, gro::Mode::kMerge);
    EXPECT_EQ(outs.size(), 1u);
    return outs.empty() ? nullptr : outs[0];
  }

  std::vector<TxFrame> Sent() {
    egress_->FlushAll();
    return testing::CollectTxFrames(port_->ring());
  }

  static Bytes Concat(const std::vector<TxFrame>& frames) {
    Bytes all;
    for (const TxFrame& f : frames) {
      const Bytes p = TcpPayload(f.bytes);
      all.insert(all.end(), p.begin(), p.end());
    }
    return all;
  }

  GuestOffloadTable guests_;
  std::unique_ptr<PortLcoreCounters[]> counters_;
  std::unique_ptr<Egress> egress_;
};

TEST_F(EgressGuestTest, MergedTcpGoesWholeToATsoGuest) {
  SetGuest(kFullGuest);
  egress_->FlushAll();  // the next iteration sees the guest
  for (bool v6 : {false, true}) {
    Bytes payload;
    rte_mbuf* m = Merged(v6, 40, 1200, &payload);
    ASSERT_NE(m, nullptr);
    egress_->Send(m);
    const std::vector<TxFrame> wire = Sent();
    ASSERT_EQ(wire.size(), 1u) << "v6 " << v6;
    const TxFrame& f = wire[0];
    EXPECT_TRUE(f.ol_flags & RTE_MBUF_F_TX_TCP_SEG);
    EXPECT_TRUE(f.ol_flags & (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4));
    EXPECT_EQ(f.tso_segsz, 1200);
    EXPECT_EQ(f.l2_len, 14);
    EXPECT_EQ(f.l3_len, v6 ? 40 : 20);
    EXPECT_EQ(f.l4_len, 20);
    EXPECT_EQ(TcpPayload(f.bytes), payload);
  }
  EXPECT_EQ(counters_[id_].gso_segments, 0u);
  EXPECT_EQ(counters_[id_].tx_dropped, 0u);
}

TEST_F(EgressGuestTest, GuestWithoutAllItNeedsGetsValidSegments) {
  // TSO for the other IP version only; TSO without partial checksums;
  // TSO without mergeable RX buffers; nothing.
  const struct {
    bool v6;
    uint8_t bits;
  } cases[] = {{true, kGuestTso4 | kGuestCsum | kGuestMrgRxbuf},
               {false, kGuestTso6 | kGuestCsum | kGuestMrgRxbuf},
               {false, kGuestTso4 | kGuestTso6 | kGuestMrgRxbuf},
               {false, kGuestTso4 | kGuestTso6 | kGuestCsum},
               {false, 0}};
  for (const auto& c : cases) {
    SetGuest(c.bits);
    egress_->FlushAll();
    Bytes payload;
    rte_mbuf* m = Merged(c.v6, 30, 1000, &payload);
    ASSERT_NE(m, nullptr);
    egress_->Send(m);
    const std::vector<TxFrame> wire = Sent();
    EXPECT_EQ(wire.size(), 30u) << "bits " << int(c.bits);
    EXPECT_EQ(Join(testing::ValidateTxFrames(wire, port_->caps())), "");
    EXPECT_EQ(Concat(wire), payload);
  }
}

TEST_F(EgressGuestTest, PacketLargerThanTheGuestRingTakesIsSegmented) {
  // A 16-descriptor ring: half of it in 1518-byte buffers.
  SetGuest(kFullGuest, GuestMaxBytesFor(16));
  egress_->FlushAll();
  Bytes payload;
  egress_->Send(Merged(false, 8, 1200, &payload));  // 9 654 bytes: whole
  std::vector<TxFrame> wire = Sent();
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_TRUE(wire[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  payload.clear();
  egress_->Send(Merged(false, 20, 1200, &payload));  // 24 054 bytes
  wire = Sent();
  EXPECT_EQ(wire.size(), 20u);
  EXPECT_EQ(Join(testing::ValidateTxFrames(wire, port_->caps())), "");
  EXPECT_EQ(Concat(wire), payload);
}

TEST_F(EgressGuestTest, GuestChangesTakeEffectAtTheNextIteration) {
  Bytes payload;
  SetGuest(kFullGuest);  // attached, not yet seen by this worker
  egress_->Send(Merged(false, 10, 1000, &payload));
  EXPECT_EQ(Sent().size(), 10u);  // FlushAll inside: seen from now on
  payload.clear();
  egress_->Send(Merged(false, 10, 1000, &payload));
  SetGuest(0);  // leaves; a new one without TSO comes
  std::vector<TxFrame> wire = Sent();
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_TRUE(wire[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  payload.clear();
  egress_->Send(Merged(false, 10, 1000, &payload));
  wire = Sent();
  EXPECT_EQ(wire.size(), 10u);
  EXPECT_EQ(Join(testing::ValidateTxFrames(wire, port_->caps())), "");
}

TEST_F(EgressGuestTest, MergedSegmentTooLargeForThePortMtuIsCut) {
  SetGuest(kFullGuest);
  port_->caps().mtu = 1000;  // 1200-byte segments do not fit
  egress_->FlushAll();
  Bytes payload;
  egress_->Send(Merged(false, 8, 1200, &payload));
  const std::vector<TxFrame> wire = Sent();
  EXPECT_EQ(Join(testing::ValidateTxFrames(wire, port_->caps())), "");
  for (const TxFrame& f : wire)
    EXPECT_FALSE(f.ol_flags & RTE_MBUF_F_TX_TCP_SEG);
}

// A guest's TSO packet as the vhost PMD hands it over: one large TCP
// packet, RX_LRO and the guest's MSS, checksum verified.
rte_mbuf* Aggregated(rte_mempool* pool, uint16_t port, bool v6, uint32_t bytes,
                     uint16_t mss, Bytes* payload) {
  PacketSpec s;
  s.v6 = v6;
  if (v6) {
    s.src_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    s.dst_ip = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  }
  s.tcp_flags = 0x18;  // PSH: belongs to the last segment only
  s.payload = Payload(bytes, bytes + v6);
  *payload = s.payload;
  rte_mbuf* m = gro::testing::ToMbuf(pool, Build(s));
  m->port = port;
  m->ol_flags = RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  m->tso_segsz = mss;
  return m;
}

TEST_F(EgressGuestTest, AggregatedInputIsCutToThePortMtu) {
  for (bool v6 : {false, true}) {
    for (uint16_t mss : {1400, 9000}) {  // 9000: above what the MTU allows
      Bytes payload;
      egress_->Send(
          Aggregated(port_->pool(), id_, v6, 50000 + mss % 7, mss, &payload));
      const std::vector<TxFrame> wire = Sent();
      const uint32_t max = v6 ? 1440 : 1460;  // MTU - IP - TCP headers
      const uint32_t seg = mss <= max ? mss : max;
      EXPECT_EQ(wire.size(), (payload.size() + seg - 1) / seg)
          << "v6 " << v6 << " mss " << mss;
      EXPECT_EQ(Join(testing::ValidateTxFrames(wire, port_->caps())), "");
      EXPECT_EQ(Concat(wire), payload);
      // Sequence numbers continue; PSH only on the last segment.
      for (size_t i = 0; i < wire.size(); ++i) {
        const size_t l4 = 14 + (v6 ? 40 : 20);
        EXPECT_EQ(bool(wire[i].bytes[l4 + 13] & 0x08), i + 1 == wire.size());
      }
    }
  }
  EXPECT_EQ(counters_[id_].tx_dropped, 0u);
}

TEST_F(EgressGuestTest, LargePacketNotAggregatedIsStillDropped) {
  // The same bytes without RX_LRO: nothing says how to cut it (a TCP
  // packet with DF above the MTU): dropped and counted, not guessed.
  Bytes payload;
  rte_mbuf* m = Aggregated(port_->pool(), id_, false, 20000, 1400, &payload);
  m->ol_flags = 0;
  m->tso_segsz = 0;
  egress_->Send(m);
  EXPECT_TRUE(Sent().empty());
  EXPECT_EQ(counters_[id_].tx_drops[kTxDropTooBig], 1u);
}

}  // namespace
}  // namespace grod::dataplane
