// Seeded, reproducible: the sample traffic (TCP4, TCP6, UDP4, VXLAN-TCP4,
// pure ACKs) through the engine (MERGE or LIST) and egress to ports with
// random capabilities and limits -- offloads on or off, MTU, mbufs per
// packet and per frame, minimum TSO segment, TSO size limit.  Whatever
// egress chooses, every frame must be valid for that port (independent
// frame validator), every flow's bytes must come out in order
// (dataplane/testing/flow_streams), nothing may be dropped (every input fits a
// 1500-byte MTU) and every mbuf must come back.
#include <rte_mbuf.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/testing/egress_port.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/frame_validator.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;

PortCapabilities RandomPort(std::mt19937& rng) {
  auto coin = [&] { return (rng() & 1) != 0; };
  auto pick = [&](std::vector<uint32_t> v) { return v[rng() % v.size()]; };
  PortCapabilities c;
  c.tcp_tso = coin();
  // USO output is one frame per merge: flow_streams counts UDP datagram
  // boundaries, so USO stays off here (egress_limits_test covers it).
  c.udp_tso = false;
  c.vxlan_tso = coin();
  c.ipv4_checksum = coin();
  c.tcp_checksum = coin();
  c.udp_checksum = coin();
  c.outer_ipv4_checksum = coin();
  c.outer_udp_checksum = coin();
  c.multi_segment_tx = coin();
  c.mtu = pick({1500, 1600, 9000});
  c.tx_max_segments = pick({1, 2, 8, 40, 65535});
  c.tx_max_mtu_segments = pick({1, 2, 8, 40, 65535});
  c.tso_min_segsz = pick({64, 256, 1500});
  c.tso_max_bytes = pick({16384, 65535});
  return c;
}

std::string Describe(const PortCapabilities& c) {
  return "tcp_tso=" + std::to_string(c.tcp_tso) +
         " vxlan_tso=" + std::to_string(c.vxlan_tso) +
         " ip/tcp/udp_csum=" + std::to_string(c.ipv4_checksum) +
         std::to_string(c.tcp_checksum) + std::to_string(c.udp_checksum) +
         " outer_ip/udp_csum=" + std::to_string(c.outer_ipv4_checksum) +
         std::to_string(c.outer_udp_checksum) +
         " multi_seg=" + std::to_string(c.multi_segment_tx) +
         " mtu=" + std::to_string(c.mtu) +
         " segs=" + std::to_string(c.tx_max_segments) + "/" +
         std::to_string(c.tx_max_mtu_segments) +
         " min_segsz=" + std::to_string(c.tso_min_segsz) +
         " tso_max=" + std::to_string(c.tso_max_bytes);
}

TEST(EgressRandomPortsTest, EveryFrameValidEveryByteDeliveredNothingLeaked) {
  const Frames in = SampleFrames();
  const grod::testing::FlowStreams want = grod::testing::SplitFlows(in);
  ASSERT_GT(want.streams.size(), 10u);
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    const gro::Mode mode = (rng() & 1) ? gro::Mode::kMerge : gro::Mode::kList;
    testing::EgressPort port("er" + std::to_string(seed));
    ASSERT_TRUE(port.ok()) << port.error();
    ASSERT_TRUE(gro::RegisterDynfield());
    port.caps() = RandomPort(rng);
    const std::string what = "seed " + std::to_string(seed) + " " +
                             (mode == gro::Mode::kMerge ? "MERGE " : "LIST ") +
                             Describe(port.caps());

    auto ctx = gro::Context::Create(gro::ContextConfig{});
    ASSERT_NE(ctx, nullptr);
    auto counters = std::make_unique<PortLcoreCounters[]>(RTE_MAX_ETHPORTS);
    Egress egress(0, port.ports(), counters.get());
    rte_mbuf* buf[32];
    gro::Output out{buf, 0, 32,
                    [](gro::Output* o, void* arg) {
                      auto* e = static_cast<Egress*>(arg);
                      for (uint16_t i = 0; i < o->count; ++i) {
                        e->SendGro(o->pkts[i]);
                      }
                      o->count = 0;
                    },
                    &egress};
    // Bursts of 32, as from a NIC, flushed after each.
    for (size_t at = 0; at < in.size(); at += 32) {
      rte_mbuf* burst[32];
      const uint16_t n = std::min<size_t>(32, in.size() - at);
      for (uint16_t i = 0; i < n; ++i) {
        burst[i] = rte_pktmbuf_alloc(port.pool());
        ASSERT_NE(burst[i], nullptr);
        memcpy(rte_pktmbuf_append(burst[i], in[at + i].size()),
               in[at + i].data(), in[at + i].size());
        burst[i]->port = port.id();
      }
      ctx->ProcessBurst(burst, n, mode, 0, &out);
      ctx->FlushAll(&out);
      out.drain(&out, out.arg);
      egress.FlushAll();
    }

    const std::vector<testing::TxFrame> wire =
        testing::CollectTxFrames(port.ring());
    const std::vector<std::string> bad =
        testing::ValidateTxFrames(wire, port.caps());
    EXPECT_TRUE(bad.empty()) << what << "\n" << bad[0];
    Frames bytes;
    for (const testing::TxFrame& f : wire) bytes.push_back(f.bytes);
    EXPECT_EQ(
        grod::testing::DiffStreams(want, grod::testing::SplitFlows(bytes)), "")
        << what;
    EXPECT_EQ(counters[port.id()].tx_dropped, 0u) << what;
    EXPECT_EQ(counters[port.id()].tx_packets, wire.size()) << what;
    ctx.reset();
    EXPECT_EQ(port.InUse(), 0u) << what << ": mbuf leak";
  }
}

}  // namespace
}  // namespace grod::dataplane
