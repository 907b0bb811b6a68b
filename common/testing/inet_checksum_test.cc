#include "common/testing/inet_checksum.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace grod::testing {
namespace {

// RFC 1071 section 3's worked example.
TEST(InetChecksumTest, Rfc1071Example) {
  const std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03,
                                     0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(OnesSum(data.data(), data.size()), 0x2ddf0u);
  EXPECT_EQ(Fold(0x2ddf0), 0xddf2);
  EXPECT_EQ(Checksum(0x2ddf0), 0x220d);
}

TEST(InetChecksumTest, OddLengthPadsTheLastByteAndSumsCarryOn) {
  const std::vector<uint8_t> data = {0x12, 0x34, 0x56};
  EXPECT_EQ(OnesSum(data.data(), data.size(), 0x10000),
            0x10000u + 0x1234 + 0x5600);
}

// A header including its correct checksum folds to 0xffff (how readers
// verify); a flipped bit does not.
TEST(InetChecksumTest, DataWithItsChecksumFoldsToAllOnes) {
  // An IPv4 header, checksum field (bytes 10-11) zero.
  std::vector<uint8_t> ip = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                             0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
                             0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const uint16_t c = Checksum(OnesSum(ip.data(), ip.size()));
  EXPECT_EQ(c, 0xb861);  // the well-known value for this header
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  EXPECT_EQ(Fold(OnesSum(ip.data(), ip.size())), 0xffff);
  ip[15] ^= 1;
  EXPECT_NE(Fold(OnesSum(ip.data(), ip.size())), 0xffff);
}

}  // namespace
}  // namespace grod::testing
