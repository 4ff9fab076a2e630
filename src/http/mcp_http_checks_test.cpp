#include "http/mcp_http_checks.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(McpAcceptTest, TheSdksAcceptAllowsBoth) {
  const McpAcceptable both = ReadMcpAccept("application/json, text/event-stream");
  EXPECT_TRUE(both.json);
  EXPECT_TRUE(both.sse);
}

TEST(McpAcceptTest, AbsentAndWildcardsAllowBoth) {
  EXPECT_TRUE(ReadMcpAccept("").json && ReadMcpAccept("").sse);
  EXPECT_TRUE(ReadMcpAccept("*/*").json && ReadMcpAccept("*/*").sse);
  EXPECT_TRUE(ReadMcpAccept("application/*").json);
  EXPECT_FALSE(ReadMcpAccept("application/*").sse);
  EXPECT_TRUE(ReadMcpAccept("TEXT/*;q=0.5").sse);
}

TEST(McpAcceptTest, OneTypeAloneAllowsOnlyIt) {
  const McpAcceptable json = ReadMcpAccept("application/json");
  EXPECT_TRUE(json.json);
  EXPECT_FALSE(json.sse);
  const McpAcceptable sse = ReadMcpAccept(" text/event-stream ");
  EXPECT_FALSE(sse.json);
  EXPECT_TRUE(sse.sse);
}

TEST(McpAcceptTest, QualityZeroAndOtherTypesAllowNothing) {
  const McpAcceptable none = ReadMcpAccept("text/html, application/json;q=0");
  EXPECT_FALSE(none.json);
  EXPECT_FALSE(none.sse);
  EXPECT_TRUE(ReadMcpAccept("application/json;q=0.0, text/event-stream;q=0.1").sse);
}

TEST(McpProtocolVersionTest, AbsentOrSpokenRevisionsPassOthersAre400) {
  EXPECT_TRUE(CheckMcpProtocolVersion("").ok());
  EXPECT_TRUE(CheckMcpProtocolVersion("2025-11-25").ok());
  EXPECT_TRUE(CheckMcpProtocolVersion("2025-06-18").ok());
  auto refused = CheckMcpProtocolVersion("1999-01-01");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kMalformed);
  EXPECT_FALSE(CheckMcpProtocolVersion("2026-07-28").ok());
}

TEST(McpOriginTest, NoOriginPasses) { EXPECT_TRUE(McpOriginAllowed("", "", false)); }

TEST(McpOriginTest, TheServersOwnOriginPasses) {
  EXPECT_TRUE(
      McpOriginAllowed("https://approvals.example.com", "https://approvals.example.com", false));
  EXPECT_TRUE(
      McpOriginAllowed("HTTPS://Approvals.Example.com", "https://approvals.example.com", false));
  EXPECT_FALSE(McpOriginAllowed("https://approvals.example.com:8443",
                                "https://approvals.example.com", false));
  EXPECT_FALSE(McpOriginAllowed("https://evil.example", "https://approvals.example.com", false));
}

TEST(McpOriginTest, LoopbackOriginsPassOnlyOnALoopbackListener) {
  for (const char* origin :
       {"http://localhost:3000", "http://127.0.0.1", "https://[::1]:8443", "http://127.8.9.10:1"}) {
    EXPECT_TRUE(McpOriginAllowed(origin, "http://127.0.0.1:8080", true)) << origin;
    EXPECT_FALSE(McpOriginAllowed(origin, "https://approvals.example.com", false)) << origin;
  }
  EXPECT_FALSE(McpOriginAllowed("http://evil.example", "http://127.0.0.1:8080", true));
  EXPECT_FALSE(McpOriginAllowed("null", "http://127.0.0.1:8080", true));
  EXPECT_FALSE(McpOriginAllowed("file://localhost", "http://127.0.0.1:8080", true));
  EXPECT_FALSE(McpOriginAllowed("http://localhost.evil.example", "http://127.0.0.1:8080", true));
}

TEST(McpSessionIdTest, OnlyVisibleAscii) {
  EXPECT_TRUE(IsMcpSessionId("mcp_abc-DEF_123"));
  EXPECT_FALSE(IsMcpSessionId(""));
  EXPECT_FALSE(IsMcpSessionId("has space"));
  EXPECT_FALSE(IsMcpSessionId("tab\there"));
  EXPECT_FALSE(IsMcpSessionId(std::string(129, 'a')));
}

}  // namespace
}  // namespace countersign
