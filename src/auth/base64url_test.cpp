#include "auth/base64url.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(Base64UrlTest, EncodesTheRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64UrlTest, DecodingRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    const std::string bytes = all.substr(0, n);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes) << n;
  }
}

TEST(Base64UrlTest, DecodingRejectsPaddingOtherAlphabetsAndSecondSpellings) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm9v Yg").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  // "Zh" carries the same byte with a non-zero padding bit.
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());
}

}  // namespace
}  // namespace countersign
