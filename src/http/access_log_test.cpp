// The access log's line, and what it hides of a request's target.
#include "http/access_log.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using namespace std::chrono_literals;

TEST(AccessLogTest, QueryValuesOfCredentialLikeParametersAreHidden) {
  EXPECT_EQ(AccessLog::RedactedTarget("/v1/requests?status=pending&limit=5"),
            "/v1/requests?status=pending&limit=5");
  EXPECT_EQ(AccessLog::RedactedTarget("/api/v1/chatops/callback?token=abc.def&x=1"),
            "/api/v1/chatops/callback?token=***&x=1");
  EXPECT_EQ(AccessLog::RedactedTarget("/x?access_token=s3&API_KEY=s4&sig=s5&password=s6"),
            "/x?access_token=***&API_KEY=***&sig=***&password=***");
  EXPECT_EQ(AccessLog::RedactedTarget("/ui/oidc/callback?code=c0de&state=st4te"),
            "/ui/oidc/callback?code=***&state=***");
  // A parameter without a value, and an empty query, stay as they are.
  EXPECT_EQ(AccessLog::RedactedTarget("/v1/audit/verify?full"), "/v1/audit/verify?full");
  EXPECT_EQ(AccessLog::RedactedTarget("/healthz?"), "/healthz?");
}

TEST(AccessLogTest, AOneClickLinksTokenIsHidden) {
  EXPECT_EQ(AccessLog::RedactedTarget("/l/eyJhbGciOi.secret"), "/l/***");
  EXPECT_EQ(AccessLog::RedactedTarget("/l/eyJhbGciOi.secret?choice=approve"),
            "/l/***?choice=approve");
}

TEST(AccessLogTest, ControlAndNonAsciiBytesAreEscapedSoALineStaysOneLine) {
  EXPECT_EQ(AccessLog::RedactedTarget("/a\tb/\xc3\xa9?q=\x01"), "/a%09b/%C3%A9?q=%01");
}

TEST(AccessLogTest, TheLineNamesMethodTargetStatusPrincipalAndMilliseconds) {
  EXPECT_EQ(AccessLog::Line("GET", "/v1/requests", 200, "alice", 1500us),
            "GET /v1/requests 200 alice 1.5ms");
  EXPECT_EQ(AccessLog::Line("POST", "/l/***", 303, "", 12ms), "POST /l/*** 303 - 12.0ms");
}

}  // namespace
}  // namespace countersign
