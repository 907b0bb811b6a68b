// The frame validator must catch what a port would refuse or send wrong:
// each case breaks one thing in a frame that is otherwise valid.
#include "dataplane/testing/frame_validator.h"

#include <string>
#include <vector>

#include "dataplane/testing/packet_builder.h"
#include "gtest/gtest.h"

namespace grod::dataplane::testing {
namespace {

using gro::testing::Build;
using gro::testing::BuildVxlan;
using gro::testing::Bytes;
using gro::testing::PacketSpec;
using gro::testing::Payload;

TxFrame Plain(const Bytes& b) {
  TxFrame f;
  f.bytes = b;
  f.nb_segs = 1;
  f.seg_lens = {uint16_t(b.size())};
  return f;
}

PortCapabilities Nic() {
  PortCapabilities c;
  c.tcp_tso = c.ipv4_checksum = c.tcp_checksum = c.multi_segment_tx = true;
  c.mtu = 1500;
  c.tx_max_segments = c.tx_max_mtu_segments = 8;
  return c;
}

bool Mentions(const std::vector<std::string>& errs, const std::string& s) {
  for (const std::string& e : errs) {
    if (e.find(s) != std::string::npos) return true;
  }
  return false;
}

TEST(FrameValidatorTest, ValidFramesPass) {
  PacketSpec tcp;
  tcp.payload = Payload(1000, 1);
  EXPECT_TRUE(ValidateTxFrame(Plain(Build(tcp)), Nic()).empty());
  PacketSpec udp6;
  udp6.v6 = true;
  udp6.proto = IPPROTO_UDP;
  udp6.payload = Payload(300, 2);
  EXPECT_TRUE(ValidateTxFrame(Plain(Build(udp6)), Nic()).empty());
  PacketSpec outer;
  outer.dport = 4789;
  EXPECT_TRUE(
      ValidateTxFrame(Plain(BuildVxlan(outer, 7, Build(tcp))), Nic()).empty());
}

TEST(FrameValidatorTest, CatchesBadChecksums) {
  PacketSpec tcp;
  tcp.payload = Payload(100, 1);
  Bytes b = Build(tcp);
  b[24] ^= 1;  // IPv4 header checksum
  EXPECT_TRUE(Mentions(ValidateTxFrame(Plain(b), Nic()), "IPv4 header"));
  b = Build(tcp);
  b.back() ^= 1;  // payload: TCP checksum
  EXPECT_TRUE(Mentions(ValidateTxFrame(Plain(b), Nic()), "TCP checksum"));
}

TEST(FrameValidatorTest, CatchesZeroOuterUdpChecksumOverIpv6) {
  PacketSpec inner;
  inner.payload = Payload(100, 1);
  PacketSpec outer;
  outer.dport = 4789;
  outer.v6 = true;
  outer.src_ip = {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  outer.dst_ip = {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  Bytes b = BuildVxlan(outer, 7, Build(inner));
  b[14 + 40 + 6] = b[14 + 40 + 7] = 0;
  EXPECT_TRUE(Mentions(ValidateTxFrame(Plain(b), Nic()), "0 over IPv6"));
}

TEST(FrameValidatorTest, CatchesFramesAboveTheMtu) {
  PacketSpec tcp;
  tcp.payload = Payload(1500, 1);
  EXPECT_TRUE(
      Mentions(ValidateTxFrame(Plain(Build(tcp)), Nic()), "above the MTU"));
}

TEST(FrameValidatorTest, CatchesOffloadsThePortDidNotEnable) {
  PacketSpec udp;
  udp.proto = IPPROTO_UDP;
  udp.payload = Payload(100, 1);
  TxFrame f = Plain(Build(udp));
  f.ol_flags = RTE_MBUF_F_TX_OUTER_IP_CKSUM;
  EXPECT_TRUE(Mentions(ValidateTxFrame(f, Nic()), "outer IPv4 checksum"));
  f.ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
  EXPECT_TRUE(Mentions(ValidateTxFrame(f, Nic()), "UDP checksum requested"));
}

TEST(FrameValidatorTest, CatchesTsoBeyondThePmdLimits) {
  PacketSpec tcp;
  tcp.payload = Payload(9000, 1);
  TxFrame f = Plain(Build(tcp));
  f.ol_flags =
      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
  f.tso_segsz = 100;  // below the default minimum of 256
  f.l2_len = 14;
  f.l3_len = 20;
  f.l4_len = 20;
  // Ten mbufs where the PMD takes eight.
  f.nb_segs = 10;
  f.seg_lens.assign(10, 0);
  for (size_t i = 0; i < 10; ++i) f.seg_lens[i] = f.bytes.size() / 10;
  f.seg_lens[9] += f.bytes.size() % 10;
  const std::vector<std::string> errs = ValidateTxFrame(f, Nic());
  EXPECT_TRUE(Mentions(errs, "tso_segsz 100 below"));
  f.tso_segsz = 1400;
  EXPECT_TRUE(Mentions(ValidateTxFrame(f, Nic()), "10 mbufs"));
}

TEST(FrameValidatorTest, CatchesBadFragments) {
  PacketSpec frag;
  frag.proto = IPPROTO_UDP;
  frag.df = false;
  frag.mf = true;
  frag.raw_ip_payload = true;
  frag.payload = Payload(100, 1);  // not a multiple of 8
  EXPECT_TRUE(
      Mentions(ValidateTxFrame(Plain(Build(frag)), Nic()), "multiple of 8"));
}

}  // namespace
}  // namespace grod::dataplane::testing
