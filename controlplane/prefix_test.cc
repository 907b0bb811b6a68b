#include "controlplane/prefix.h"

#include "gtest/gtest.h"

namespace grod::controlplane {
namespace {

TEST(PrefixTest, ParsesAndFormatsCanonically) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"10.1.0.0/16", "10.1.0.0/16"},
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"192.168.1.7/32", "192.168.1.7/32"},
      {"2001:DB8:0::/32", "2001:db8::/32"},
      {"::/0", "::/0"},
      {"fe80::1/128", "fe80::1/128"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(c.in);
    ASSERT_TRUE(p.ok()) << c.in << ": " << p.status();
    EXPECT_EQ(FormatIpPrefix(*p), c.out);
  }
  EXPECT_FALSE(ParseIpPrefix("10.0.0.0/8")->is_v6);
  EXPECT_TRUE(ParseIpPrefix("::/0")->is_v6);
}

TEST(PrefixTest, RejectsMalformed) {
  for (const char* bad :
       {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/+8",
        "10.0.0.0/ 8", "10.0.0/8", "10.0.0.256/32", "::/129", "x/8",
        "10.0.0.1/8", "2001:db8::1/32", "10.0.0.0/8/8", "10.0.0.0/0008"}) {
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseIpPrefix("10.0.0.1/8").status().message().find("10.0.0.0/8"),
            std::string::npos)
      << "host-bit error suggests the masked prefix";
}

TEST(PrefixTest, OrderIsV4ThenV6) {
  EXPECT_LT(*ParseIpPrefix("255.0.0.0/8"), *ParseIpPrefix("::/0"));
  EXPECT_LT(*ParseIpPrefix("10.0.0.0/8"), *ParseIpPrefix("10.0.0.0/16"));
}

}  // namespace
}  // namespace grod::controlplane
