// The virtio-net header codec against frames built independently (the
// test's packet builder computes every checksum itself): what the kernel
// would make of the header (completing a partial checksum from csum_start,
// cutting gso_size segments) must give back those frames.
#include "dataplane/runtime/vnet_header.h"

#include <gtest/gtest.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/dpdk_env.h"
#include "dataplane/testing/packet_builder.h"

namespace grod::dataplane {
namespace {

using gro::testing::Build;
using gro::testing::Bytes;
using gro::testing::FixChecksums;
using gro::testing::PacketSpec;
using gro::testing::Payload;
using gro::testing::ToBytes;
using gro::testing::ToMbuf;

class VnetHeaderTest : public gro::testing::MbufTest {};

// What the kernel does with NEEDS_CSUM (skb_checksum_help): the folded
// sum of [csum_start, end), inverted, at csum_start + csum_offset.
void CompleteLikeKernel(Bytes* f, const VnetHeader& h) {
  const uint16_t raw =
      rte_raw_cksum(f->data() + h.csum_start, f->size() - h.csum_start);
  uint16_t c = ~raw;
  if (c == 0) c = 0xffff;
  memcpy(f->data() + h.csum_start + h.csum_offset, &c, 2);
}

PacketSpec Tcp(bool v6, size_t payload, uint32_t seed) {
  PacketSpec s;
  s.v6 = v6;
  if (v6) {
    s.src_ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    s.dst_ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  }
  s.payload = Payload(payload, seed);
  return s;
}

// A merged packet as the engine emits it: TSO metadata and the pseudo-
// header sum without length in the L4 field.
rte_mbuf* AsMerged(rte_mempool* pool, const Bytes& f, bool v6, bool tcp,
                   uint16_t mss, uint32_t split) {
  rte_mbuf* m = ToMbuf(pool, f, split);
  const uint32_t l3 = v6 ? 40 : 20;
  m->l2_len = 14;
  m->l3_len = l3;
  m->l4_len = tcp ? 20 : 8;
  m->tso_segsz = mss;
  m->ol_flags =
      (tcp ? RTE_MBUF_F_TX_TCP_SEG : RTE_MBUF_F_TX_UDP_SEG) |
      (v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  const uint16_t phdr =
      v6 ? rte_ipv6_phdr_cksum(reinterpret_cast<rte_ipv6_hdr*>(d + 14),
                               m->ol_flags)
         : rte_ipv4_phdr_cksum(reinterpret_cast<rte_ipv4_hdr*>(d + 14),
                               m->ol_flags);
  memcpy(d + 14 + l3 + (tcp ? 16 : 6), &phdr, 2);
  return m;
}

TEST_F(VnetHeaderTest, MergedTcpBecomesOneGsoPacketTheKernelCompletes) {
  for (bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    const Bytes want = Build(Tcp(v6, 14000, 7));  // valid checksums
    rte_mbuf* m = AsMerged(pool_, want, v6, true, 1400, 1000);
    VnetHeader h;
    ASSERT_TRUE(PrepareForKernel(m, &h));
    const uint32_t l4 = 14 + (v6 ? 40 : 20);
    EXPECT_EQ(h.flags, kVnetNeedsCsum);
    EXPECT_EQ(h.gso_type, v6 ? kVnetGsoTcpv6 : kVnetGsoTcpv4);
    EXPECT_EQ(h.gso_size, 1400);
    EXPECT_EQ(h.hdr_len, l4 + 20);
    EXPECT_EQ(h.csum_start, l4);
    EXPECT_EQ(h.csum_offset, 16);
    Bytes got = ToBytes(m);
    CompleteLikeKernel(&got, h);
    EXPECT_EQ(got, want);  // the field held the full-length pseudo-header
    rte_pktmbuf_free(m);
  }
}

TEST_F(VnetHeaderTest, MergedUdpIsUsoAndCwrSetsEcn) {
  PacketSpec s = Tcp(false, 3000, 3);
  s.proto = IPPROTO_UDP;
  const Bytes want = Build(s);
  rte_mbuf* m = AsMerged(pool_, want, false, false, 1000, 0);
  VnetHeader h;
  ASSERT_TRUE(PrepareForKernel(m, &h));
  EXPECT_EQ(h.gso_type, kVnetGsoUdpL4);
  EXPECT_EQ(h.gso_size, 1000);
  EXPECT_EQ(h.hdr_len, 14 + 20 + 8);
  EXPECT_EQ(h.csum_offset, 6);
  Bytes got = ToBytes(m);
  CompleteLikeKernel(&got, h);
  EXPECT_EQ(got, want);
  rte_pktmbuf_free(m);

  PacketSpec c = Tcp(false, 3000, 4);
  c.tcp_flags = 0x10 | 0x80;  // ACK + CWR
  m = AsMerged(pool_, Build(c), false, true, 1000, 0);
  ASSERT_TRUE(PrepareForKernel(m, &h));
  EXPECT_EQ(h.gso_type, kVnetGsoTcpv4 | kVnetGsoEcn);
  rte_pktmbuf_free(m);
}

TEST_F(VnetHeaderTest, PlainFrameGetsAZeroHeaderAndStaysUntouched) {
  const Bytes want = Build(Tcp(false, 1000, 1));
  rte_mbuf* m = ToMbuf(pool_, want);
  VnetHeader h;
  h.flags = 0xff;
  ASSERT_TRUE(PrepareForKernel(m, &h));
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.gso_type, kVnetGsoNone);
  EXPECT_EQ(h.csum_start, 0);
  EXPECT_EQ(ToBytes(m), want);
  rte_pktmbuf_free(m);
}

TEST_F(VnetHeaderTest, ChecksumRequestsArePartialAndIpv4HeaderComputed) {
  const Bytes want = Build(Tcp(false, 900, 2));
  Bytes broken = want;
  broken[14 + 10] ^= 0x5a;  // IPv4 header checksum
  broken[14 + 20 + 16] ^= 0x33;
  rte_mbuf* m = ToMbuf(pool_, broken);
  m->l2_len = 14;
  m->l3_len = 20;
  m->ol_flags =
      RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
  VnetHeader h;
  ASSERT_TRUE(PrepareForKernel(m, &h));
  EXPECT_EQ(h.flags, kVnetNeedsCsum);
  EXPECT_EQ(h.gso_type, kVnetGsoNone);
  EXPECT_EQ(h.csum_start, 34);
  Bytes got = ToBytes(m);
  CompleteLikeKernel(&got, h);
  EXPECT_EQ(got, want);
  rte_pktmbuf_free(m);
}

TEST_F(VnetHeaderTest, RefusesWhatATapCannotTake) {
  const Bytes f = Build(Tcp(false, 3000, 5));
  struct Case {
    const char* name;
    void (*mutate)(rte_mbuf*);
  } cases[] = {
      {"no segment size", [](rte_mbuf* m) { m->tso_segsz = 0; }},
      {"tunnel offload",
       [](rte_mbuf* m) { m->ol_flags |= RTE_MBUF_F_TX_TUNNEL_VXLAN; }},
      {"outer checksum",
       [](rte_mbuf* m) { m->ol_flags |= RTE_MBUF_F_TX_OUTER_IP_CKSUM; }},
      {"no IP version",
       [](rte_mbuf* m) { m->ol_flags &= ~RTE_MBUF_F_TX_IPV4; }},
      {"l4_len disagrees", [](rte_mbuf* m) { m->l4_len = 32; }},
      {"headers beyond the frame", [](rte_mbuf* m) { m->l3_len = 200; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    rte_mbuf* m = AsMerged(pool_, f, false, true, 1000, 0);
    c.mutate(m);
    const Bytes before = ToBytes(m);
    VnetHeader h;
    EXPECT_FALSE(PrepareForKernel(m, &h));
    EXPECT_EQ(ToBytes(m), before);  // untouched
    rte_pktmbuf_free(m);
  }
}

TEST_F(VnetHeaderTest, PartialChecksumFromTheKernelIsCompleted) {
  PacketSpec s = Tcp(false, 1200, 9);
  for (bool udp : {false, true}) {
    s.proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
    const Bytes want = Build(s);
    // As the kernel hands it over: the field holds the pseudo-header sum.
    Bytes partial = want;
    const uint32_t at = 34 + (udp ? 6 : 16);
    // pseudo-header sum = ~(complete checksum) - sum(L4 bytes w/o field).
    partial[at] = partial[at + 1] = 0;
    const uint16_t l4_sum =
        rte_raw_cksum(partial.data() + 34, partial.size() - 34);
    uint16_t want_sum;
    memcpy(&want_sum, want.data() + at, 2);
    uint32_t p = uint16_t(~want_sum) + uint16_t(~l4_sum);
    p = (p & 0xffff) + (p >> 16);
    const uint16_t pseudo = uint16_t(p);
    memcpy(partial.data() + at, &pseudo, 2);
    rte_mbuf* m = ToMbuf(pool_, partial, 600);  // chained
    VnetHeader h;
    h.flags = kVnetNeedsCsum;
    h.csum_start = 34;
    h.csum_offset = udp ? 6 : 16;
    ASSERT_TRUE(ApplyFromKernel(h, m));
    EXPECT_EQ(ToBytes(m), want);
    EXPECT_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
              RTE_MBUF_F_RX_L4_CKSUM_GOOD);
    rte_pktmbuf_free(m);
  }
}

TEST_F(VnetHeaderTest, GsoFromTheKernelSegmentsIntoValidFrames) {
  for (bool v6 : {false, true}) {
    SCOPED_TRACE(v6 ? "IPv6" : "IPv4");
    PacketSpec s = Tcp(v6, 9000, 11);
    const Bytes big = Build(s);
    rte_mbuf* m = ToMbuf(pool_, big, 2000);
    VnetHeader h;
    h.flags = kVnetNeedsCsum;
    h.gso_type = v6 ? kVnetGsoTcpv6 : kVnetGsoTcpv4;
    h.gso_size = 1448;
    h.hdr_len = 14 + (v6 ? 40 : 20) + 20;
    h.csum_start = 14 + (v6 ? 40 : 20);
    h.csum_offset = 16;
    ASSERT_TRUE(ApplyFromKernel(h, m));
    EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
    EXPECT_EQ(m->tso_segsz, 1448);
    EXPECT_EQ(m->l2_len, 14);
    EXPECT_EQ(m->l3_len, v6 ? 40u : 20u);
    EXPECT_EQ(m->l4_len, 20);
    // Software GSO (what egress does for a peer without TSO) must give
    // 1448-byte segments carrying the original payload, each valid.
    rte_mbuf* segs[16];
    const int n =
        gro::Segment(m, pool_, gro::testing::IndirectPool(), segs, 16);
    ASSERT_EQ(n, 7);  // ceil(9000 / 1448)
    Bytes payload;
    for (int i = 0; i < n; ++i) {
      Bytes seg = ToBytes(segs[i]);
      Bytes fixed = seg;
      FixChecksums(&fixed);
      EXPECT_EQ(seg, fixed) << "segment " << i << " checksums";
      payload.insert(payload.end(), seg.begin() + h.hdr_len, seg.end());
      rte_pktmbuf_free(segs[i]);
    }
    EXPECT_EQ(payload, s.payload);
  }
}

TEST_F(VnetHeaderTest, GsoHeaderThatDisagreesWithTheFrameIsRefused) {
  const Bytes f = Build(Tcp(false, 3000, 12));
  VnetHeader good;
  good.flags = kVnetNeedsCsum;
  good.gso_type = kVnetGsoTcpv4;
  good.gso_size = 1000;
  good.csum_start = 34;
  good.csum_offset = 16;
  struct Case {
    const char* name;
    void (*mutate)(VnetHeader*);
  } cases[] = {
      {"v6 type on v4", [](VnetHeader* h) { h->gso_type = kVnetGsoTcpv6; }},
      {"UFO", [](VnetHeader* h) { h->gso_type = kVnetGsoUdp; }},
      {"UDP on TCP", [](VnetHeader* h) { h->gso_type = kVnetGsoUdpL4; }},
      {"no NEEDS_CSUM", [](VnetHeader* h) { h->flags = 0; }},
      {"no gso_size", [](VnetHeader* h) { h->gso_size = 0; }},
      {"wrong offset", [](VnetHeader* h) { h->csum_offset = 6; }},
      {"start in IP", [](VnetHeader* h) { h->csum_start = 30; }},
      {"start beyond", [](VnetHeader* h) { h->csum_start = 4000; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    VnetHeader h = good;
    c.mutate(&h);
    rte_mbuf* m = ToMbuf(pool_, f);
    EXPECT_FALSE(ApplyFromKernel(h, m));
    rte_pktmbuf_free(m);
  }
  rte_mbuf* m = ToMbuf(pool_, f);
  EXPECT_TRUE(ApplyFromKernel(good, m));  // the cases differ only so
  rte_pktmbuf_free(m);
}

}  // namespace
}  // namespace grod::dataplane
