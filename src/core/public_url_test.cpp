#include "core/public_url.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(PublicUrlTest, AcceptsHostsPortsAndPathsAndNormalisesCase) {
  auto url = PublicUrl::Parse("HTTPS://Approvals.Example.com/cs", "public_url");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->text(), "https://approvals.example.com/cs");
  EXPECT_EQ(url->origin(), "https://approvals.example.com");
  EXPECT_EQ(url->path(), "/cs");
  EXPECT_TRUE(url->https());
  EXPECT_EQ(url->LinkFor("abc.def"), "https://approvals.example.com/cs/l/abc.def");

  auto local = PublicUrl::Parse("http://127.0.0.1:7400", "public_url");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->origin(), "http://127.0.0.1:7400");
  EXPECT_EQ(local->path(), "");
  EXPECT_FALSE(local->https());

  auto v6 = PublicUrl::Parse("http://[::1]:8080/a/b", "public_url");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->origin(), "http://[::1]:8080");
}

TEST(PublicUrlTest, TheOriginLeavesOutTheDefaultPort) {
  EXPECT_EQ(PublicUrl::Parse("https://a.example:443", "k")->origin(), "https://a.example");
  EXPECT_EQ(PublicUrl::Parse("http://a.example:80/x", "k")->origin(), "http://a.example");
  EXPECT_EQ(PublicUrl::Parse("http://a.example:443", "k")->origin(), "http://a.example:443");
}

TEST(PublicUrlTest, RefusesAnythingElseNamingTheKey) {
  for (std::string_view bad : {"",
                               "example.com",
                               "ftp://example.com",
                               "https://",
                               "https://example.com/",
                               "https://example.com/cs/",
                               "https://example.com?x=1",
                               "https://example.com#f",
                               "https://user@example.com",
                               "https://example.com:0",
                               "https://example.com:65536",
                               "https://example.com:80x",
                               "https://example.com:",
                               "https://exa mple.com",
                               "https://[zz]:80",
                               "https://example.com//x",
                               "https://example.com/a/../b",
                               "https://example.com/%zz",
                               "https://-example.com",
                               "https://a..b"}) {
    auto url = PublicUrl::Parse(bad, "--public-url");
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.error().code, ErrorCode::kInvalid);
    EXPECT_EQ(url.error().message.rfind("--public-url", 0), 0u) << url.error().message;
  }
}

TEST(PublicUrlTest, ForListenerUsesTheBoundAddress) {
  EXPECT_EQ(PublicUrl::ForListener("127.0.0.1", 41234, false).text(), "http://127.0.0.1:41234");
  EXPECT_EQ(PublicUrl::ForListener("::1", 7400, true).text(), "https://[::1]:7400");
  EXPECT_EQ(PublicUrl::ForListener("10.0.0.1", 443, true).origin(), "https://10.0.0.1");
  EXPECT_EQ(PublicUrl::ForListener("10.0.0.1", 443, true).path(), "");
}

}  // namespace
}  // namespace countersign
