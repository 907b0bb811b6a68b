// Every frame egress hands a port must be one that port can send, and every
// mbuf must come back: lists of any length, datagrams above the MTU
// (fragmented again), TSO within the PMD's limits (mbufs per packet and per
// segment, minimum segment size), the PMD's tx_prepare verdict, and only
// the offloads the port enabled (VXLAN outer checksums).  Each output is
// checked by an independent frame validator and, where the payload
// matters, reassembled by the test itself and compared with the input.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/testing/egress_fixture.h"
#include "dataplane/testing/frame_validator.h"
#include "dataplane/testing/packet_builder.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using gro::testing::Build;
using gro::testing::BuildVxlan;
using gro::testing::Bytes;
using gro::testing::PacketSpec;
using gro::testing::Payload;
using testing::Join;
using testing::TxFrame;

uint32_t Get16(const Bytes& b, size_t off) {
  return uint32_t(b[off]) << 8 | b[off + 1];
}

class EgressLimitsTest : public testing::EgressPortTest {
 protected:
  void SetUp() override {
    EgressPortTest::SetUp();
    if (HasFatalFailure()) return;
    pmd_prepare_ = rte_eth_fp_ops[id_].tx_pkt_prepare;
    // A NIC-like port: TSO and checksums, chains up to ixgbe's 40 mbufs.
    PortCapabilities& c = port_->caps();
    c = PortCapabilities{};
    c.tcp_tso = c.udp_tso = true;
    c.ipv4_checksum = c.tcp_checksum = c.udp_checksum = true;
    c.multi_segment_tx = true;
    c.mtu = 1500;
    c.tx_max_segments = 40;
    c.tx_max_mtu_segments = 40;
  }

  void TearDown() override {
    if (port_ != nullptr && port_->ok())
      rte_eth_fp_ops[id_].tx_pkt_prepare = pmd_prepare_;
    EgressPortTest::TearDown();
  }

  // Frames through the engine (one context, flushed at the end), then
  // egress; returns what the port transmitted.
  std::vector<TxFrame> ThroughEngine(const std::vector<Bytes>& frames,
                                     gro::Mode mode) {
    std::vector<rte_mbuf*> in;
    for (const Bytes& f : frames) in.push_back(ToMbuf(f));
    const std::vector<rte_mbuf*> outs = testing::ThroughEngine(in, mode);
    engine_outputs_ = outs.size();
    return ThroughEgress(outs);
  }

  std::vector<TxFrame> ThroughEgress(const std::vector<rte_mbuf*>& pkts) {
    counters_ = std::make_unique<PortLcoreCounters[]>(RTE_MAX_ETHPORTS);
    Egress egress(0, port_->ports(), counters_.get());
    for (rte_mbuf* m : pkts) egress.SendGro(m);
    egress.FlushAll();
    return testing::CollectTxFrames(port_->ring());
  }

  const PortLcoreCounters& counters() const { return counters_[id_]; }

  size_t engine_outputs_ = 0;
  eth_tx_prep_t pmd_prepare_ = nullptr;  // the ring PMD's (none)
  std::unique_ptr<PortLcoreCounters[]> counters_;
};

// --- Lists --------------------------------------------------------------

// A list built as gro_engine.h documents it (dynamic field + flag, looked
// up by name): egress must not depend on how long the engine lets it get.
rte_mbuf* MakeList(const std::vector<rte_mbuf*>& members) {
  struct Link {
    rte_mbuf* next;
    uint16_t count;
  };
  const int off = rte_mbuf_dynfield_lookup("grod_gro_list_link", nullptr);
  const int bit = rte_mbuf_dynflag_lookup("grod_gro_list", nullptr);
  if (off < 0 || bit < 0) return nullptr;
  for (size_t i = 0; i < members.size(); ++i) {
    Link* l = RTE_MBUF_DYNFIELD(members[i], off, Link*);
    l->next = i + 1 < members.size() ? members[i + 1] : nullptr;
    l->count = members.size();
  }
  members[0]->ol_flags |= 1ULL << bit;
  return members[0];
}

TEST_F(EgressLimitsTest, ListLongerThanOneChunkIsSentWholeInOrder) {
  // 151 fragments of one datagram made such a list in the field; 300 is
  // more than any fixed buffer egress had (128).
  std::vector<Bytes> frames;
  std::vector<rte_mbuf*> members;
  for (uint32_t i = 0; i < 300; ++i) {
    PacketSpec s;
    s.proto = IPPROTO_UDP;
    s.payload = Payload(100 + i % 7, i);
    frames.push_back(Build(s));
    members.push_back(ToMbuf(frames.back()));
  }
  rte_mbuf* list = MakeList(members);
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(gro::ListLength(list), 300);
  const std::vector<TxFrame> wire = ThroughEgress({list});
  ASSERT_EQ(wire.size(), frames.size());
  for (size_t i = 0; i < wire.size(); ++i) {
    EXPECT_EQ(wire[i].bytes, frames[i]) << "member " << i;
  }
  EXPECT_EQ(counters().tx_packets, 300u);
  EXPECT_EQ(counters().tx_dropped, 0u);
}

// --- MTU ------------------------------------------------------------------

struct Datagram {
  uint16_t id = 0;
  uint8_t proto = 0;
  Bytes payload;  // the IP payload, in order
  bool complete = false;
};

// The test's own reassembly of IPv4 fragments found at `l3` in each frame.
Datagram Reassemble(const std::vector<TxFrame>& frames, size_t l3) {
  std::map<uint32_t, Bytes> pieces;
  Datagram d;
  bool saw_last = false;
  for (const TxFrame& f : frames) {
    const Bytes& b = f.bytes;
    const size_t hl = (b[l3] & 0x0f) * 4;
    const uint32_t total = Get16(b, l3 + 2);
    const uint32_t fo = Get16(b, l3 + 6);
    d.id = Get16(b, l3 + 4);
    d.proto = b[l3 + 9];
    pieces[(fo & 0x1fff) * 8] =
        Bytes(b.begin() + l3 + hl, b.begin() + l3 + total);
    if (!(fo & 0x2000)) saw_last = true;
  }
  uint32_t next = 0;
  for (const auto& [off, p] : pieces) {
    if (off != next) return d;  // gap or overlap
    d.payload.insert(d.payload.end(), p.begin(), p.end());
    next += p.size();
  }
  d.complete = saw_last;
  return d;
}

// Egress queues runs of plain list members without Send()'s per-member
// port lookup: a member above the MTU anywhere in the list (first, last, at
// a batch boundary) must still be checked and fragmented, in its place.
TEST_F(EgressLimitsTest, ListMembersAboveTheMtuAreFragmentedInPlace) {
  const std::vector<uint32_t> big = {0, 63, 64, 130, 199};
  std::vector<Bytes> frames;
  std::vector<rte_mbuf*> members;
  for (uint32_t i = 0; i < 200; ++i) {
    PacketSpec s;
    s.proto = IPPROTO_UDP;
    s.df = false;
    s.ip_id = i;
    const bool above = std::find(big.begin(), big.end(), i) != big.end();
    s.payload = Payload(above ? 1700 : 100 + i % 5, i);
    frames.push_back(Build(s));
    members.push_back(ToMbuf(frames.back()));
  }
  rte_mbuf* list = MakeList(members);
  ASSERT_NE(list, nullptr);
  const std::vector<TxFrame> wire = ThroughEgress({list});
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  // Walk the wire in input order: a small member is its own frame, a big
  // one the fragments that follow (same IP ID), reassembled here.
  size_t w = 0;
  for (uint32_t i = 0; i < frames.size(); ++i) {
    ASSERT_LT(w, wire.size()) << "member " << i << " missing";
    if (std::find(big.begin(), big.end(), i) == big.end()) {
      EXPECT_EQ(wire[w++].bytes, frames[i]) << "member " << i;
      continue;
    }
    std::vector<TxFrame> frags;
    while (w < wire.size() && Get16(wire[w].bytes, 14 + 4) == i) {
      frags.push_back(wire[w++]);
    }
    ASSERT_GE(frags.size(), 2u) << "member " << i << " not fragmented";
    const Datagram d = Reassemble(frags, 14);
    EXPECT_TRUE(d.complete) << "member " << i;
    EXPECT_EQ(d.payload, Bytes(frames[i].begin() + 34, frames[i].end()))
        << "member " << i;
  }
  EXPECT_EQ(w, wire.size());
  EXPECT_EQ(counters().tx_packets, wire.size());
  EXPECT_EQ(counters().ip_fragments, 2 * big.size());
  EXPECT_EQ(counters().tx_dropped, 0u);
}

TEST_F(EgressLimitsTest, ReassembledDatagramAboveMtuIsFragmentedAgain) {
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.df = false;
  s.ip_id = 777;
  s.payload = Payload(4000, 9);  // 4028-byte IP datagram
  const Bytes whole = Build(s);
  const std::vector<TxFrame> wire =
      ThroughEngine(gro::testing::Fragment(whole, 1480), gro::Mode::kMerge);
  ASSERT_EQ(engine_outputs_, 1u) << "the engine reassembles the datagram";
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  ASSERT_GE(wire.size(), 3u);
  const Datagram d = Reassemble(wire, 14);
  EXPECT_TRUE(d.complete);
  EXPECT_EQ(d.id, 777);
  EXPECT_EQ(d.proto, IPPROTO_UDP);
  EXPECT_EQ(d.payload, Bytes(whole.begin() + 34, whole.end()));
  EXPECT_EQ(counters().ip_fragments, wire.size());
  EXPECT_EQ(counters().tx_packets, wire.size());
}

TEST_F(EgressLimitsTest, FragmentsAreCopiedWhenThePortTakesNoChains) {
  port_->caps().multi_segment_tx = false;
  port_->caps().tcp_tso = port_->caps().udp_tso = false;
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.df = false;
  s.payload = Payload(4000, 5);
  const Bytes whole = Build(s);
  const std::vector<TxFrame> wire =
      ThroughEngine(gro::testing::Fragment(whole, 1480), gro::Mode::kMerge);
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  for (const TxFrame& f : wire) EXPECT_EQ(f.nb_segs, 1);
  const Datagram d = Reassemble(wire, 14);
  EXPECT_TRUE(d.complete);
  EXPECT_EQ(d.payload, Bytes(whole.begin() + 34, whole.end()));
}

TEST_F(EgressLimitsTest, EmptyPoolsDropAndCountWithoutLeaking) {
  // Fragmentation needs header and indirect mbufs: with the indirect pool
  // drained, the datagram is dropped, counted, and nothing leaks.
  std::vector<rte_mbuf*> hoard;
  rte_mempool* ind = port_->ports().gso_indirect_pool;
  for (rte_mbuf* m; (m = rte_pktmbuf_alloc(ind)) != nullptr;) {
    hoard.push_back(m);
  }
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.df = false;
  s.payload = Payload(4000, 6);
  const std::vector<TxFrame> wire =
      ThroughEngine(gro::testing::Fragment(Build(s), 1480), gro::Mode::kMerge);
  for (rte_mbuf* m : hoard) rte_pktmbuf_free(m);
  EXPECT_TRUE(wire.empty());
  EXPECT_EQ(counters().tx_drops[kTxDropNoMbufs], 1u);
  EXPECT_EQ(counters().tx_dropped, 1u);
}

TEST_F(EgressLimitsTest, VxlanInnerDatagramAboveMtuIsFragmentedInside) {
  // VXLAN over IPv6 carrying a fragmented 3000-byte UDP datagram.
  PacketSpec inner;
  inner.proto = IPPROTO_UDP;
  inner.df = false;
  inner.ip_id = 4242;
  inner.payload = Payload(3000, 3);
  const Bytes whole = Build(inner);
  PacketSpec outer;
  outer.dport = 4789;
  outer.v6 = true;
  outer.src_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  outer.dst_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8};
  std::vector<Bytes> in;
  for (const Bytes& frag : gro::testing::Fragment(whole, 1400)) {
    in.push_back(BuildVxlan(outer, 42, frag));
  }
  const std::vector<TxFrame> wire = ThroughEngine(in, gro::Mode::kMerge);
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  const size_t inner_l3 = 14 + 40 + 8 + 8 + 14;
  const Datagram d = Reassemble(wire, inner_l3);
  EXPECT_TRUE(d.complete);
  EXPECT_EQ(d.id, 4242);
  EXPECT_EQ(d.payload, Bytes(whole.begin() + 34, whole.end()));
  EXPECT_EQ(counters().tx_dropped, 0u);
}

TEST_F(EgressLimitsTest, FramesAboveMtuThatCannotBeFragmentedAreCounted) {
  PacketSpec df;  // TCP with DF, as the builder makes it
  df.payload = Payload(3000, 1);
  PacketSpec v6;
  v6.v6 = true;
  v6.src_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  v6.dst_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  v6.payload = Payload(2000, 2);
  PacketSpec ok;
  ok.payload = Payload(1000, 3);
  const std::vector<TxFrame> wire =
      ThroughEgress({ToMbuf(Build(df)), ToMbuf(Build(v6)), ToMbuf(Build(ok))});
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_EQ(wire[0].bytes, Build(ok));
  EXPECT_EQ(counters().tx_drops[kTxDropTooBig], 2u);
  EXPECT_EQ(counters().tx_dropped, 2u);
}

// --- TSO limits -------------------------------------------------------------

// The TCP payload of each frame, by sequence number, joined.
Bytes TcpStream(const std::vector<TxFrame>& frames, uint32_t first_seq) {
  std::map<uint32_t, Bytes> by_seq;
  for (const TxFrame& f : frames) {
    const Bytes& b = f.bytes;
    const size_t l4 = 14 + (b[14] & 0x0f) * 4;
    const size_t data = l4 + (b[l4 + 12] >> 4) * 4;
    const uint32_t seq = Get16(b, l4 + 4) << 16 | Get16(b, l4 + 6);
    by_seq[seq - first_seq] = Bytes(b.begin() + data, b.end());
  }
  Bytes out;
  for (const auto& [off, p] : by_seq) {
    if (off != out.size()) return {};
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<Bytes> TcpSegments(uint32_t n, uint32_t mss, Bytes* stream) {
  std::vector<Bytes> frames;
  for (uint32_t i = 0; i < n; ++i) {
    PacketSpec s;
    s.seq = 1000 + i * mss;
    s.payload = Payload(mss, i);
    stream->insert(stream->end(), s.payload.begin(), s.payload.end());
    frames.push_back(Build(s));
  }
  return frames;
}

TEST_F(EgressLimitsTest, TsoChainLongerThanThePmdTakesIsSegmented) {
  Bytes stream;
  const std::vector<TxFrame> wire =
      ThroughEngine(TcpSegments(64, 1000, &stream), gro::Mode::kMerge);
  ASSERT_EQ(engine_outputs_, 1u);  // one 64-mbuf merged chain
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  EXPECT_EQ(TcpStream(wire, 1000), stream);
  EXPECT_EQ(counters().tx_dropped, 0u);
}

TEST_F(EgressLimitsTest, TsoWithinThePmdLimitsGoesWhole) {
  Bytes stream;
  const std::vector<TxFrame> wire =
      ThroughEngine(TcpSegments(30, 1000, &stream), gro::Mode::kMerge);
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_TRUE(wire[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
}

TEST_F(EgressLimitsTest, TinySegmentsAreNotHandedToTso) {
  Bytes stream;
  const std::vector<TxFrame> wire =
      ThroughEngine(TcpSegments(64, 1, &stream), gro::Mode::kMerge);
  ASSERT_EQ(engine_outputs_, 1u);  // merged with MSS 1
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  EXPECT_EQ(TcpStream(wire, 1000), stream);
  EXPECT_EQ(counters().gso_segments, 64u);
}

TEST_F(EgressLimitsTest, TsoFlagsWithoutSegmentSizeAreDroppedAndCounted) {
  PacketSpec s;
  s.payload = Payload(3000, 1);
  rte_mbuf* m = ToMbuf(Build(s));
  m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4;
  m->l2_len = 14;
  m->l3_len = 20;
  m->l4_len = 20;
  m->tso_segsz = 0;
  const std::vector<TxFrame> wire = ThroughEgress({m});
  EXPECT_TRUE(wire.empty());
  EXPECT_EQ(counters().tx_drops[kTxDropUnsendable], 1u);
}

// A PMD tx_prepare that refuses frames of odd length.
uint16_t RefuseOddLength(void*, rte_mbuf** pkts, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) {
    if (pkts[i]->pkt_len & 1) {
      rte_errno = EINVAL;
      return i;
    }
  }
  return n;
}

TEST_F(EgressLimitsTest, WhatTxPrepareRefusesIsFreedAndCounted) {
  rte_eth_fp_ops[id_].tx_pkt_prepare = RefuseOddLength;
  std::vector<rte_mbuf*> pkts;
  std::vector<Bytes> even;
  for (uint32_t i = 0; i < 150; ++i) {
    PacketSpec s;
    s.proto = IPPROTO_UDP;
    s.payload = Payload(200 + i % 3, i);  // frame length 242..244
    const Bytes f = Build(s);
    if (f.size() % 2 == 0) even.push_back(f);
    pkts.push_back(ToMbuf(f));
  }
  const std::vector<TxFrame> wire = ThroughEgress(pkts);
  ASSERT_EQ(wire.size(), even.size());
  for (size_t i = 0; i < wire.size(); ++i) EXPECT_EQ(wire[i].bytes, even[i]);
  EXPECT_EQ(counters().tx_drops[kTxDropPrepare], 150 - even.size());
  EXPECT_EQ(counters().tx_dropped, 150 - even.size());
  EXPECT_EQ(counters().tx_packets, even.size());
}

// --- VXLAN offloads
// -----------------------------------------------------------

std::vector<Bytes> VxlanTcp(bool outer_v6, Bytes* stream) {
  PacketSpec outer;
  outer.dport = 4789;
  if (outer_v6) {
    outer.v6 = true;
    outer.src_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    outer.dst_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8};
  }
  std::vector<Bytes> frames;
  for (uint32_t i = 0; i < 8; ++i) {
    PacketSpec in;
    in.seq = 1000 + i * 1300;
    in.payload = Payload(1300, i);
    stream->insert(stream->end(), in.payload.begin(), in.payload.end());
    frames.push_back(BuildVxlan(outer, 42, Build(in)));
  }
  return frames;
}

class VxlanEgressTest : public EgressLimitsTest,
                        public ::testing::WithParamInterface<bool> {};

TEST_P(VxlanEgressTest, WithoutOuterChecksumOffloadsChecksumsAreSoftware) {
  const bool outer_v6 = GetParam();
  port_->caps().vxlan_tso = true;  // but no outer checksum offload
  Bytes stream;
  const std::vector<TxFrame> wire =
      ThroughEngine(VxlanTcp(outer_v6, &stream), gro::Mode::kMerge);
  ASSERT_EQ(engine_outputs_, 1u);
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
  EXPECT_EQ(wire.size(), 8u);
}

TEST_P(VxlanEgressTest, WithOuterChecksumOffloadsTsoTakesItWhole) {
  const bool outer_v6 = GetParam();
  PortCapabilities& c = port_->caps();
  c.vxlan_tso = c.outer_ipv4_checksum = c.outer_udp_checksum = true;
  Bytes stream;
  const std::vector<TxFrame> wire =
      ThroughEngine(VxlanTcp(outer_v6, &stream), gro::Mode::kMerge);
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_TRUE(wire[0].ol_flags & RTE_MBUF_F_TX_TCP_SEG);
  EXPECT_EQ(bool(wire[0].ol_flags & RTE_MBUF_F_TX_OUTER_UDP_CKSUM), outer_v6);
  EXPECT_TRUE(testing::ValidateTxFrames(wire, port_->caps()).empty())
      << Join(testing::ValidateTxFrames(wire, port_->caps()));
}

INSTANTIATE_TEST_SUITE_P(OuterIp, VxlanEgressTest, ::testing::Bool(),
                         [](const auto& info) {
                           return std::string(info.param ? "Ipv6" : "Ipv4");
                         });

}  // namespace
}  // namespace grod::dataplane
