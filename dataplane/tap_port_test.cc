// grod's tap port (ports[].tap) in the real DpdkDataPlane, against the real
// kernel: a ring port feeds TCP segments in, the tap hands them to the
// kernel, and a packet socket on the tap (PACKET_VNET_HDR) shows what the
// kernel's stack received -- one GSO skb per merged packet (MERGE), the
// original segments (LIST, BYPASS).  The other way, a GSO packet the
// kernel sends out of the tap reaches the ring port as valid MSS-sized
// segments.  Every test checks that all mbufs come back.  The test runs in
// a network namespace of its own (unshared before any thread starts), so
// its taps see no other traffic and vanish with it.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "common/testing/wait_for.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/ring_port.h"
#include "dataplane/traffic/sample_traffic.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

using Frame = std::vector<uint8_t>;
constexpr size_t kMss = 1448;
constexpr int kSegments = 20;

// Before main(): a private network namespace for the whole process.
const bool kUnshared = [] {
  if (unshare(CLONE_NEWNET) != 0) return false;
  // No IPv6 autoconfiguration chatter out of the taps made here.
  std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << "1";
  return true;
}();

// struct virtio_net_hdr as a packet socket gives and takes it (10 bytes).
struct PacketVnetHeader {
  uint8_t flags, gso_type;
  uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

uint16_t Be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// The kernel's completion of a partial checksum (skb_checksum_help).
void Complete(Frame* f, const PacketVnetHeader& h) {
  uint32_t sum = 0;
  for (size_t i = h.csum_start; i < f->size(); i += 2) {
    sum += uint32_t((*f)[i]) << 8 | (i + 1 < f->size() ? (*f)[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const uint16_t c = ~sum ? uint16_t(~sum) : 0xffff;
  (*f)[h.csum_start + h.csum_offset] = c >> 8;
  (*f)[h.csum_start + h.csum_offset + 1] = c & 0xff;
}

class PacketSocket {
 public:
  explicit PacketSocket(const std::string& ifname) {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    int one = 1;
    setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one));
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ALL);
    a.sll_ifindex = if_nametoindex(ifname.c_str());
    ifindex_ = a.sll_ifindex;
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  ~PacketSocket() { close(fd_); }
  bool ok() const { return fd_ >= 0 && ifindex_ != 0; }

  // Frames the kernel received on the interface (not its own output),
  // until `count` arrived or 3 s passed.
  std::vector<std::pair<PacketVnetHeader, Frame>> Receive(size_t count) {
    std::vector<std::pair<PacketVnetHeader, Frame>> out;
    std::vector<uint8_t> buf(1 << 17);
    ::grod::testing::WaitFor(
        [&] {
          for (;;) {  // everything queued on the socket so far
            sockaddr_ll from{};
            socklen_t len = sizeof(from);
            const ssize_t n =
                recvfrom(fd_, buf.data(), buf.size(), 0,
                         reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 0) break;
            if (from.sll_pkttype == PACKET_OUTGOING) continue;
            PacketVnetHeader h;
            memcpy(&h, buf.data(), sizeof(h));
            out.push_back({h, Frame(buf.begin() + sizeof(h), buf.begin() + n)});
          }
          return out.size() >= count;
        },
        absl::Seconds(3), absl::Milliseconds(2));
    return out;
  }

  // Sends a frame out of the interface with a virtio-net header.
  bool Send(const PacketVnetHeader& h, const Frame& f) {
    Frame b(sizeof(h));
    memcpy(b.data(), &h, sizeof(h));
    b.insert(b.end(), f.begin(), f.end());
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_ifindex = ifindex_;
    a.sll_halen = 6;
    return sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&a),
                  sizeof(a)) == ssize_t(b.size());
  }

 private:
  int fd_ = -1;
  unsigned ifindex_ = 0;
};

class TapPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kUnshared) << "needs root (unshare CLONE_NEWNET)";
    testing::InitTestEal();
    ring_ =
        std::make_unique<testing::RingPort>("tap" + std::to_string(next_++));
    ifname_ = "gtapu" + std::to_string(next_);
    RuntimeConfig rc;
    rc.ports.push_back({ring_->name(), "ctr", 256, 256});
    PortSpec tap{"ctr", ring_->name(), 256, 256};
    tap.tap_interface = ifname_;
    rc.ports.push_back(tap);
    rc.mbufs = 8191;
    rc.idle_sleep_us = 20;
    absl::StatusOr<std::unique_ptr<DpdkDataPlane>> dp =
        DpdkDataPlane::Start(rc);
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = *std::move(dp);
    dp_->StartForwarding();
    for (const PortInfo& p : dp_->Ports()) {
      if (p.name == "ctr") tap_info_ = p;
    }
    sock_ = std::make_unique<PacketSocket>(ifname_);
    ASSERT_TRUE(sock_->ok());
  }

  void TearDown() override {
    sock_.reset();
    dp_->Stop();
    ring_->Collect();
    EXPECT_EQ(ring_->InjectPoolInUse(), 0u) << "an injected mbuf leaked";
    EXPECT_EQ(dp_->MbufsInUse(), 0u) << "a data-plane mbuf leaked";
  }

  void Tenant(GroMode mode) {
    TenantSpec t;
    t.name = "t";
    t.selectors.push_back({ring_->port_id(), std::nullopt, std::nullopt});
    t.default_mode = mode;
    ASSERT_TRUE(dp_->UpsertTenant(t).ok());
  }

  PortCounters TapCounters() {
    for (PortCounters& c : dp_->Stats().ports) {
      if (c.port_id == tap_info_.port_id) return c;
    }
    return {};
  }

  std::vector<Frame> Segments(const FlowAddress& f) {
    std::vector<Frame> frames;
    for (int i = 0; i < kSegments; ++i) {
      frames.push_back(TcpFrame(f, 1 + i * kMss, kMss));
    }
    return frames;
  }

  std::unique_ptr<testing::RingPort> ring_;
  std::unique_ptr<DpdkDataPlane> dp_;
  std::unique_ptr<PacketSocket> sock_;
  std::string ifname_;
  PortInfo tap_info_;

 private:
  static inline int next_ = 0;
};

TEST_F(TapPortTest, ListedAsATapWithWhatTheKernelAccepted) {
  EXPECT_EQ(tap_info_.kind, PortKind::kVnetTap);
  EXPECT_EQ(tap_info_.driver, "grod_tap:" + ifname_);
  EXPECT_TRUE(tap_info_.consumer.negotiated);
  EXPECT_TRUE(tap_info_.consumer.tso4);
  EXPECT_TRUE(tap_info_.consumer.tso6);
  EXPECT_TRUE(tap_info_.consumer.checksum);
  EXPECT_TRUE(tap_info_.capabilities.tcp_tso);
  EXPECT_FALSE(tap_info_.capabilities.vxlan_tso);
  EXPECT_EQ(tap_info_.mac_address.size(), 17u);
  EXPECT_GE(tap_info_.port_id, RTE_MAX_ETHPORTS - 1);  // the first tap id
}

TEST_F(TapPortTest, MergeDeliversOneGsoPacketTheKernelAccepts) {
  Tenant(GroMode::kMerge);
  FlowAddress f;
  ring_->Inject(Segments(f));
  auto got = sock_->Receive(1);
  ASSERT_EQ(got.size(), 1u);
  auto& [h, frame] = got[0];
  EXPECT_EQ(h.gso_type, 1);  // VIRTIO_NET_HDR_GSO_TCPV4
  EXPECT_EQ(h.gso_size, kMss);
  EXPECT_EQ(h.flags & 1, 1);  // NEEDS_CSUM
  EXPECT_EQ(h.csum_start, 34);
  EXPECT_EQ(h.csum_offset, 16);
  ASSERT_EQ(frame.size(), 54 + kSegments * kMss);
  // The payload is the stream's, and completing the partial checksum as
  // the kernel would gives a frame whose checksums an independent
  // builder agrees with.
  const Frame whole = TcpFrame(f, 1, kSegments * kMss);
  EXPECT_TRUE(std::equal(frame.begin() + 54, frame.end(), whole.begin() + 54));
  EXPECT_EQ(Be16(frame.data() + 16), 40 + kSegments * kMss);  // IP length
  Complete(&frame, h);
  Frame fixed = frame;
  gro::testing::FixChecksums(&fixed);
  EXPECT_EQ(frame, fixed);
  EXPECT_EQ(TapCounters().tx_packets, 1u);
  EXPECT_EQ(TapCounters().tx_dropped, 0u);
}

TEST_F(TapPortTest, ListAndBypassDeliverTheSegmentsUntouched) {
  for (GroMode mode : {GroMode::kList, GroMode::kBypass}) {
    SCOPED_TRACE(mode == GroMode::kList ? "LIST" : "BYPASS");
    Tenant(mode);
    FlowAddress f;
    f.sport = mode == GroMode::kList ? 1000 : 2000;
    const std::vector<Frame> sent = Segments(f);
    ring_->Inject(sent);
    auto got = sock_->Receive(sent.size());
    ASSERT_EQ(got.size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      EXPECT_EQ(got[i].first.gso_type, 0);
      EXPECT_EQ(got[i].first.flags & 1, 0);  // complete checksums
      EXPECT_EQ(got[i].second, sent[i]) << "segment " << i;
    }
  }
}

TEST_F(TapPortTest, KernelGsoPacketLeavesTheRingPortAsValidSegments) {
  FlowAddress f;
  f.sport = 3000;
  Frame big = TcpFrame(f, 1, 5000);
  // As the kernel's stack hands a TSO packet to a device: checksum partial
  // (the field holds the pseudo-header sum with the full L4 length).
  PacketVnetHeader h{1, 1, 54, 1000, 34, 16};
  uint32_t sum = 0;
  for (int i = 26; i < 34; i += 2) sum += Be16(big.data() + i);
  sum += 6 + (big.size() - 34);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  big[50] = sum >> 8;
  big[51] = sum & 0xff;
  ASSERT_TRUE(sock_->Send(h, big));
  std::vector<Frame> out = ring_->CollectAtLeast(5, 3000);
  ASSERT_EQ(out.size(), 5u);
  Frame payload;
  for (const Frame& s : out) {
    Frame fixed = s;
    gro::testing::FixChecksums(&fixed);
    EXPECT_EQ(s, fixed) << "a segment's checksums";
    payload.insert(payload.end(), s.begin() + 54, s.end());
  }
  EXPECT_TRUE(
      std::equal(payload.begin(), payload.end(), big.begin() + 54, big.end()));
  const PortCounters c = TapCounters();
  EXPECT_EQ(c.rx_packets, 1u);  // read as one packet
  EXPECT_EQ(c.rx_errors, 0u);
}

TEST_F(TapPortTest, WritesToADownTapAreCountedDropsAndFreed) {
  Tenant(GroMode::kMerge);
  ASSERT_EQ(system(("ip link set " + ifname_ + " down").c_str()), 0);
  FlowAddress f;
  ring_->Inject(Segments(f));
  PortCounters c;
  ::grod::testing::WaitFor([&] {
    c = TapCounters();
    return c.tx_dropped != 0;
  });
  EXPECT_EQ(c.tx_dropped, 1u);  // the merged packet
  EXPECT_EQ(c.tx_drops["link_down"], 1u);
  EXPECT_EQ(c.tx_packets, 0u);
}

}  // namespace
}  // namespace grod::dataplane
