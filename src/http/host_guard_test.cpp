#include "http/host_guard.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

HttpRequest With(std::string_view host, std::string_view origin = "") {
  HttpRequest request{http::verb::get, "/v1/requests", 11};
  if (!host.empty()) request.set(http::field::host, host);
  if (!origin.empty()) request.set(http::field::origin, origin);
  return request;
}

TEST(HostGuardTest, LoopbackHostsPass) {
  const HostGuard guard;
  for (std::string_view host : {"localhost", "localhost:7070", "LOCALHOST:1", "127.0.0.1",
                                "127.0.0.1:7070", "127.8.9.10", "[::1]", "[::1]:7070"}) {
    EXPECT_EQ(guard.Check(With(host)), std::nullopt) << host;
  }
  EXPECT_EQ(guard.Check(With("")), std::nullopt) << "no Host: not a browser";
}

TEST(HostGuardTest, OtherHostsAreRefused) {
  const HostGuard guard;
  for (std::string_view host :
       {"evil.example", "evil.example:7070", "localhost.evil.example", "127.0.0.1.evil.example",
        "10.0.0.1:7070", "0.0.0.0", "[::]:1", "::1", "[::1", "127.0.0.1@evil.example", ":7070"}) {
    auto refused = guard.Check(With(host));
    ASSERT_TRUE(refused.has_value()) << host;
    EXPECT_EQ(refused->code, ErrorCode::kForbidden);
  }
}

TEST(HostGuardTest, ACrossOriginPageIsRefused) {
  const HostGuard guard;
  EXPECT_EQ(guard.Check(With("127.0.0.1:7070", "http://127.0.0.1:7070")), std::nullopt);
  EXPECT_EQ(guard.Check(With("localhost:7070", "http://localhost:7070")), std::nullopt);
  for (std::string_view origin :
       {"https://evil.example", "null", "http://localhost.evil.example", "file://", "evil"}) {
    auto refused = guard.Check(With("127.0.0.1:7070", origin));
    ASSERT_TRUE(refused.has_value()) << origin;
    EXPECT_NE(refused->message.find("other origins"), std::string::npos);
  }
}

TEST(HostGuardTest, TheConfiguredPublicHostPasses) {
  const HostGuard guard({"Approvals.Example.com"});
  EXPECT_EQ(guard.Check(With("approvals.example.com", "https://approvals.example.com")),
            std::nullopt);
  EXPECT_TRUE(guard.Check(With("other.example.com")).has_value());
}

}  // namespace
}  // namespace countersign
