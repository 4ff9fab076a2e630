#include "cli/listen_address.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(ListenAddressTest, ReadsAnIpv4AddressAndPort) {
  auto address = ParseListenAddress("127.0.0.1:7401", "--listen");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 7401);
}

TEST(ListenAddressTest, ReadsABracketedIpv6AddressAndPortZero) {
  auto address = ParseListenAddress("[::1]:0", "--listen");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 0);
}

TEST(ListenAddressTest, LocalhostMeansTheIpv4Loopback) {
  auto address = ParseListenAddress("localhost:80", "--listen");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "127.0.0.1");
}

TEST(ListenAddressTest, RefusesWhatIsNotIpAndPort) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "example.com:80",
                           "user@127.0.0.1:80", ":80", "127.0.0.1:8x"}) {
    auto address = ParseListenAddress(text, "--listen");
    ASSERT_FALSE(address.ok()) << text;
    EXPECT_EQ(address.error().message.rfind("--listen must be IP:PORT", 0), 0u) << text;
  }
}

}  // namespace
}  // namespace countersign
