// StartPort records what egress must respect: the configured MTU (set on
// the device) and the PMD's TX limits; a MTU the device refuses is a clear
// error naming the setting.
#include "dataplane/runtime/port.h"

#include <rte_ethdev.h>

#include "dataplane/testing/ring_port.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

class PortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::InitTestEal();
    ring_ = std::make_unique<testing::RingPort>("pt" + std::to_string(next_++) +
                                                "_ring");
    pool_ = rte_pktmbuf_pool_create(("pt_pool" + std::to_string(next_)).c_str(),
                                    1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override {
    StopPort(ring_->port_id());
    ring_.reset();
    rte_mempool_free(pool_);
  }
  static inline int next_ = 0;
  std::unique_ptr<testing::RingPort> ring_;
  rte_mempool* pool_ = nullptr;
};

TEST_F(PortTest, DefaultMtuAndPmdLimitsAreRecorded) {
  absl::StatusOr<PortCapabilities> caps =
      StartPort(ring_->port_id(), PortQueues{1, 1, 256, 256}, pool_);
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_EQ(caps->mtu, 1500u);
  rte_eth_dev_info info;
  ASSERT_EQ(rte_eth_dev_info_get(ring_->port_id(), &info), 0);
  EXPECT_EQ(caps->tx_max_segments, info.tx_desc_lim.nb_seg_max);
  EXPECT_EQ(caps->tx_max_mtu_segments, info.tx_desc_lim.nb_mtu_seg_max);
}

TEST_F(PortTest, ConfiguredMtuIsSetOnTheDevice) {
  PortQueues q{1, 1, 256, 256};
  q.mtu = 9000;
  absl::StatusOr<PortCapabilities> caps = StartPort(ring_->port_id(), q, pool_);
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_EQ(caps->mtu, 9000u);
  uint16_t mtu = 0;
  ASSERT_EQ(rte_eth_dev_get_mtu(ring_->port_id(), &mtu), 0);
  EXPECT_EQ(mtu, 9000);
}

TEST_F(PortTest, MtuTheDeviceRefusesIsAnErrorNamingIt) {
  PortQueues q{1, 1, 256, 256};
  q.mtu = 10;  // below every device's minimum (68)
  absl::StatusOr<PortCapabilities> caps = StartPort(ring_->port_id(), q, pool_);
  ASSERT_FALSE(caps.ok());
  EXPECT_EQ(caps.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(caps.status().message().find("mtu 10"), std::string::npos)
      << caps.status();
  // Nothing was started: the port can still be started properly.
  EXPECT_TRUE(
      StartPort(ring_->port_id(), PortQueues{1, 1, 256, 256}, pool_).ok());
}

}  // namespace
}  // namespace grod::dataplane
