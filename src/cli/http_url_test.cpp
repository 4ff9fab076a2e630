#include "cli/http_url.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(HttpUrlTest, AnHttpUrlWithoutAPortIsPort80) {
  auto url = ParseHttpUrl("http://approvals.example.com/countersign/", "server URL");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "approvals.example.com");
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->host_header, "approvals.example.com");
  EXPECT_EQ(url->prefix, "/countersign");
}

TEST(HttpUrlTest, AnHttpsUrlWithoutAPortIsPort443) {
  auto url = ParseHttpUrl("https://approvals.example.com", "server URL");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->prefix, "");
}

TEST(HttpUrlTest, AnIpv6HostKeepsItsBracketsOnlyInTheHostHeader) {
  auto url = ParseHttpUrl("https://[::1]:8443/", "server URL");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->host_header, "[::1]:8443");
}

TEST(HttpUrlTest, RefusesOtherSchemesAndUrlsWithMoreThanAServer) {
  for (const char* text : {"ftp://example.com", "example.com:7400", "https://user@example.com",
                           "http://example.com/?q=1", "http://example.com/#x", "http://"}) {
    auto url = ParseHttpUrl(text, "server URL");
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_NE(url.error().message.find(text), std::string::npos) << url.error().message;
    EXPECT_NE(url.error().message.find("http[s]://HOST"), std::string::npos) << url.error().message;
  }
}

}  // namespace
}  // namespace countersign
