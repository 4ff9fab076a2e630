#include "http/cookies.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

HttpRequest WithCookies(std::initializer_list<std::string_view> headers) {
  HttpRequest request{http::verb::post, "/l/x", 11};
  for (auto header : headers) request.insert(http::field::cookie, header);
  return request;
}

TEST(CookiesTest, FindsOneCookieAmongSeveral) {
  auto request = WithCookies({"a=1; cs_link_csrf=abc ;b=2"});
  EXPECT_EQ(FindCookie(request, "cs_link_csrf"), "abc");
  EXPECT_EQ(FindCookie(request, "a"), "1");
  EXPECT_EQ(FindCookie(request, "b"), "2");
}

TEST(CookiesTest, SearchesEveryCookieHeader) {
  auto request = WithCookies({"a=1", "cs_link_csrf=xyz"});
  EXPECT_EQ(FindCookie(request, "cs_link_csrf"), "xyz");
}

TEST(CookiesTest, MissingOrNamelessCookiesAreNotFound) {
  EXPECT_FALSE(FindCookie(WithCookies({}), "a").has_value());
  EXPECT_FALSE(FindCookie(WithCookies({"ab=1; xa=2; a"}), "a").has_value());
  EXPECT_FALSE(FindCookie(WithCookies({";;=;"}), "a").has_value());
  EXPECT_EQ(FindCookie(WithCookies({"a=; a=2"}), "a"), "");
}

}  // namespace
}  // namespace countersign
