// Port kinds from DPDK driver names, and a vhost-user guest's virtio-net
// feature word decoded into what grod reports (bit numbers from the virtio
// 1.2 specification, section 5.1.3, written out here independently).
#include "dataplane/runtime/port_kind.h"

#include "dataplane/runtime/guest_watch.h"

#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

TEST(PortKindTest, DriversMapToKinds) {
  EXPECT_EQ(PortKindOf("net_af_xdp"), PortKind::kAfXdp);
  EXPECT_EQ(PortKindOf("net_af_packet"), PortKind::kAfPacket);
  EXPECT_EQ(PortKindOf("net_vhost"), PortKind::kVhostUser);
  EXPECT_EQ(PortKindOf("net_tap"), PortKind::kTap);
  EXPECT_EQ(PortKindOf("net_pcap"), PortKind::kVirtual);
  EXPECT_EQ(PortKindOf("net_ring"), PortKind::kVirtual);
  EXPECT_EQ(PortKindOf("net_null"), PortKind::kVirtual);
  EXPECT_EQ(PortKindOf("net_virtio_user"), PortKind::kVirtual);
  // PCI PMDs: net_<nic> as well as other names.
  EXPECT_EQ(PortKindOf("net_ice"), PortKind::kNic);
  EXPECT_EQ(PortKindOf("net_i40e"), PortKind::kNic);
  EXPECT_EQ(PortKindOf("mlx5_pci"), PortKind::kNic);
}

TEST(PortKindTest, VirtioFeatureBitsDecoded) {
  const uint64_t guest_csum = 1ull << 1, guest_tso4 = 1ull << 7,
                 guest_tso6 = 1ull << 8, guest_ufo = 1ull << 10,
                 mrg_rxbuf = 1ull << 15, guest_uso4 = 1ull << 54,
                 guest_uso6 = 1ull << 55, host_tso4 = 1ull << 11;

  ConsumerFeatures none = FeaturesFromVirtio(0);
  EXPECT_TRUE(none.negotiated);
  EXPECT_FALSE(none.tso4 || none.tso6 || none.uso || none.checksum ||
               none.mergeable_rx_buffers);

  // HOST_TSO4 is the guest sending TSO, not receiving it: not reported.
  ConsumerFeatures host_only = FeaturesFromVirtio(host_tso4);
  EXPECT_FALSE(host_only.tso4);

  ConsumerFeatures all = FeaturesFromVirtio(
      guest_csum | guest_tso4 | guest_tso6 | mrg_rxbuf | guest_uso6);
  EXPECT_TRUE(all.checksum);
  EXPECT_TRUE(all.tso4);
  EXPECT_TRUE(all.tso6);
  EXPECT_TRUE(all.uso);
  EXPECT_TRUE(all.mergeable_rx_buffers);

  EXPECT_TRUE(FeaturesFromVirtio(guest_uso4).uso);
  EXPECT_TRUE(FeaturesFromVirtio(guest_ufo).uso);
  ConsumerFeatures tso6_only = FeaturesFromVirtio(guest_tso6);
  EXPECT_FALSE(tso6_only.tso4);
  EXPECT_TRUE(tso6_only.tso6);
}

// What egress is told: one bit per feature it relies on, nothing for a
// detached port (negotiated = false) whatever else the struct says.
TEST(PortKindTest, GuestOffloadBitsForEgress) {
  ConsumerFeatures detached;
  detached.tso4 = detached.checksum = true;
  EXPECT_EQ(GuestOffloadsOf(detached), 0);
  ConsumerFeatures f;
  f.negotiated = true;
  EXPECT_EQ(GuestOffloadsOf(f), 0);
  f.tso4 = true;
  EXPECT_EQ(GuestOffloadsOf(f), kGuestTso4);
  f.tso6 = f.checksum = f.mergeable_rx_buffers = true;
  f.uso = true;  // not used by egress
  EXPECT_EQ(GuestOffloadsOf(f),
            kGuestTso4 | kGuestTso6 | kGuestCsum | kGuestMrgRxbuf);
  f.tso4 = false;
  EXPECT_EQ(GuestOffloadsOf(f), kGuestTso6 | kGuestCsum | kGuestMrgRxbuf);
}

}  // namespace
}  // namespace grod::dataplane
