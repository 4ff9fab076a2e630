#include "cli/http_header_option.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(HttpHeaderOptionTest, SplitsAtTheFirstColonAndTrimsTheValue) {
  auto header = ParseHttpHeaderOption("Authorization:  Bearer a:b \t");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->name, "Authorization");
  EXPECT_EQ(header->value, "Bearer a:b");
}

TEST(HttpHeaderOptionTest, AnEmptyValueIsAllowed) {
  auto header = ParseHttpHeaderOption("X-Empty:");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->value, "");
}

TEST(HttpHeaderOptionTest, ANameThatIsNotATokenIsRefused) {
  EXPECT_FALSE(ParseHttpHeaderOption("no colon").ok());
  EXPECT_FALSE(ParseHttpHeaderOption(": value").ok());
  EXPECT_FALSE(ParseHttpHeaderOption("Bad Name: value").ok());
}

TEST(HttpHeaderOptionTest, AValueWithAControlCharacterIsRefused) {
  auto header = ParseHttpHeaderOption("X-Token: a\r\nX-Injected: b");
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.error().message.find("control character"), std::string::npos);
}

TEST(HttpHeaderOptionTest, HeadersTheProxySetsItselfAreRefused) {
  for (const char* text : {"Host: x", "content-length: 1", "Mcp-Session-Id: s",
                           "MCP-Protocol-Version: 2025-06-18", "Accept: */*"}) {
    auto header = ParseHttpHeaderOption(text);
    ASSERT_FALSE(header.ok()) << text;
    EXPECT_NE(header.error().message.find("sets this header itself"), std::string::npos);
  }
}

}  // namespace
}  // namespace countersign
