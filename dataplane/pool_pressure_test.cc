// Mbuf pool pressure on the DPDK data plane: a tenant whose quota and
// timeout would let it hold more packets than the pool has must not stall
// RX. The port is a net_pcap device replaying a capture (it allocates from
// grod's pool and counts rx_nombuf when the pool is empty) and writing what
// it transmits to another capture -- freeing each mbuf as it is sent, as a
// NIC completing TX would, so only what GRO holds competes with RX.
#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/testing/wait_for.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/flow_streams.h"
#include "dataplane/testing/ring_port.h"  // InitTestEal
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frames = std::vector<std::vector<uint8_t>>;
using ::grod::testing::DiffStreams;
using ::grod::testing::SplitFlows;

constexpr int kBigFlows = 2000;
constexpr int kSegments = 8;  // per flow: every flow stays open (held)
constexpr int kSmallFlows = 4;
constexpr uint32_t kPoolMbufs = 4095;

Frames Flows(int flows, uint16_t vlan, int segments) {
  Frames frames;
  for (int s = 0; s < segments; ++s) {
    for (int i = 0; i < flows; ++i) {
      FlowAddress a;
      a.src_v4 = 0x0a000001 + i;
      a.dst_v4 = 0x0a640000 + vlan;
      a.sport = 20000 + i;
      a.vlan = vlan;
      frames.push_back(TcpFrame(a, 1 + s * 200, 200));
    }
  }
  return frames;
}

TenantSpec Hoarder(const std::string& name, uint16_t port, uint16_t vlan) {
  TenantSpec t;
  t.name = name;
  t.selectors.push_back({port, vlan, std::nullopt});
  t.default_mode = GroMode::kList;  // outputs are the original frames
  t.flush.kind = FlushKind::kTimeout;
  t.flush.timeout_ns = 60'000'000'000;  // only a flush frees them
  t.max_flows = 8192;
  t.max_held_packets = 65536;  // far more than the pool
  return t;
}

TEST(PoolPressureTest, LargestHolderIsFlushedAndRxKeepsReceiving) {
  testing::InitTestEal();
  // The small tenant's packets come first, so it holds them throughout.
  const Frames small = Flows(kSmallFlows, 20, kSegments);
  const Frames big = Flows(kBigFlows, 10, kSegments);
  Frames in = small;
  in.insert(in.end(), big.begin(), big.end());
  ASSERT_GT(in.size(), 3 * kPoolMbufs);
  const std::string pcap =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/pressure-", getpid(), ".pcap");
  ASSERT_TRUE(WritePcap(pcap, in).ok());
  const std::string pcap_dev = "net_pcap_pressure0";
  const std::string out_pcap = pcap + ".out";
  ASSERT_EQ(rte_vdev_init(
                pcap_dev.c_str(),
                absl::StrCat("rx_pcap=", pcap, ",tx_pcap=", out_pcap).c_str()),
            0);
  uint16_t pcap_port = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name(pcap_dev.c_str(), &pcap_port), 0);

  RuntimeConfig rc;
  rc.ports.push_back({pcap_dev, pcap_dev, 128, 128});  // its own peer
  rc.mbufs = kPoolMbufs;
  // The workers are configured before the capture starts replaying.
  absl::StatusOr<std::unique_ptr<DpdkDataPlane>> started =
      DpdkDataPlane::Start(rc);
  ASSERT_TRUE(started.ok()) << started.status();
  DpdkDataPlane& dp = **started;
  ASSERT_TRUE(dp.UpsertTenant(Hoarder("big", pcap_port, 10)).ok());
  ASSERT_TRUE(dp.UpsertTenant(Hoarder("small", pcap_port, 20)).ok());
  dp.StartForwarding();

  auto port_stats = [&] {
    for (const PortCounters& p : dp.Stats().ports) {
      if (p.port_id == pcap_port) return p;
    }
    return PortCounters{};
  };
  // Until the capture is read (or, without relief, RX stops getting mbufs).
  PortCounters pc;
  ::grod::testing::WaitFor([&] {
    pc = port_stats();
    return pc.rx_packets + pc.rx_nombuf >= in.size();
  });
  EXPECT_EQ(pc.rx_packets, in.size()) << "RX stalled or lost packets";
  // Relief starts while a few bursts' worth of mbufs are still free, so no
  // allocation should ever fail.
  EXPECT_EQ(pc.rx_nombuf, 0u);

  const StatsSnapshot s = dp.Stats();
  TenantCounters big_c, small_c;
  for (const TenantCounters& t : s.tenants) {
    if (t.tenant == "big") big_c = t;
    if (t.tenant == "small") small_c = t;
  }
  EXPECT_GT(big_c.flushes["pressure"], 0u) << "the largest holder flushed";
  EXPECT_EQ(small_c.flushes.count("pressure"), 0u) << "not the small one";
  EXPECT_EQ(small_c.held_packets, small.size());
  ASSERT_EQ(s.workers.size(), 1u);
  EXPECT_GT(s.workers[0].pressure_iterations, 0u);
  EXPECT_EQ(s.workers[0].pressure_flushed_flows, big_c.flushes["pressure"]);
  for (const MempoolCounters& m : s.mempools) {
    EXPECT_LE(m.in_use, m.size) << m.name;
  }

  // Everything held leaves on stop; nothing lost or reordered, every mbuf
  // back.
  dp.Stop();
  EXPECT_EQ(dp.MbufsInUse(), 0u);
  rte_vdev_uninit(pcap_dev.c_str());  // closes the output capture
  absl::StatusOr<Frames> out = ::grod::testing::ReadPcap(out_pcap);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), in.size());
  EXPECT_EQ(DiffStreams(SplitFlows(in), SplitFlows(*out)), "");
}

}  // namespace
}  // namespace grod::dataplane
