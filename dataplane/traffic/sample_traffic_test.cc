#include "dataplane/traffic/sample_traffic.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "gtest/gtest.h"

namespace grod {
namespace {

uint16_t Be16(const std::vector<uint8_t>& f, size_t off) {
  return (f[off] << 8) | f[off + 1];
}

// One's-complement sum of 16-bit words must fold to 0xffff when the stored
// checksum is right.
bool ChecksumOk(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

TEST(SampleTrafficTest, Ipv4HeadersAndTcpChecksumsAreValid) {
  int tcp4 = 0;
  for (const std::vector<uint8_t>& f : SampleFrames()) {
    ASSERT_GE(f.size(), 14u);
    if (Be16(f, 12) != 0x0800) continue;
    ASSERT_TRUE(ChecksumOk(&f[14], 20));
    EXPECT_EQ(Be16(f, 16), f.size() - 14);  // no Ethernet padding
    if (f[23] != 6) continue;
    const size_t l4_len = f.size() - 34;
    uint32_t pseudo = 6 + l4_len;
    for (size_t i = 26; i < 34; i += 2) pseudo += Be16(f, i);
    EXPECT_TRUE(ChecksumOk(&f[34], l4_len, pseudo));
    ++tcp4;
  }
  EXPECT_GT(tcp4, 100);
}

TEST(SampleTrafficTest, EveryFrameFitsA1500ByteMtu) {
  // grod's ports keep the device's 1500-byte MTU by default, and egress
  // sends nothing larger (IPv6 segments need a smaller MSS than IPv4's).
  for (const std::vector<uint8_t>& f : SampleFrames()) {
    const size_t l2 = Be16(f, 12) == 0x8100 ? 18 : 14;
    EXPECT_LE(f.size() - l2, 1500u) << "ethertype " << Be16(f, l2 - 2);
  }
}

TEST(SampleTrafficTest, WritesReadablePcap) {
  const std::string path = ::testing::TempDir() + "/sample.pcap";
  std::vector<std::vector<uint8_t>> frames = SampleFrames();
  ASSERT_TRUE(WritePcap(path, frames).ok());
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  size_t expected = 24;
  for (const auto& f : frames) expected += 16 + f.size();
  ASSERT_EQ(bytes.size(), expected);
  EXPECT_EQ(bytes[0], 0xd4);  // little-endian magic a1b2c3d4
  EXPECT_EQ(bytes[20], 1);    // LINKTYPE_ETHERNET
}

TEST(SampleTrafficTest, UnwritablePathIsAnError) {
  EXPECT_FALSE(WritePcap("/nonexistent-dir/x.pcap", SampleFrames()).ok());
}

}  // namespace
}  // namespace grod
