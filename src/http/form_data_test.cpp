#include "http/form_data.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(FormDataTest, DecodesPlusAndPercentEscapes) {
  auto form = ParseFormData("csrf=abc-_1&comment=ship+it%21+%E2%9C%93&empty=&flag");
  ASSERT_TRUE(form.ok()) << form.error().message;
  EXPECT_EQ(form->at("csrf"), "abc-_1");
  EXPECT_EQ(form->at("comment"), "ship it! \xE2\x9C\x93");
  EXPECT_EQ(form->at("empty"), "");
  EXPECT_EQ(form->at("flag"), "");
}

TEST(FormDataTest, KeepsEscapedSeparatorsInsideValues) {
  auto form = ParseFormData("comment=a%26b%3Dc%2Bd&x=1");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(form->at("comment"), "a&b=c+d");
  EXPECT_EQ(form->at("x"), "1");
}

TEST(FormDataTest, EmptyBodiesAndStraySeparatorsAreFine) {
  EXPECT_TRUE(ParseFormData("")->empty());
  auto form = ParseFormData("&&a=1&&");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(form->size(), 1u);
}

TEST(FormDataTest, RefusesBadEscapesInvalidUtf8AndRepeatedKeys) {
  for (std::string_view bad : {"a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a=%FF", "a=%C0%80",
                               "a=%ED%A0%80", "a=%F4%90%80%80", "a=%E2%9C", "a=1&a=2"}) {
    auto form = ParseFormData(bad);
    ASSERT_FALSE(form.ok()) << bad;
    EXPECT_EQ(form.error().code, ErrorCode::kMalformed);
  }
}

}  // namespace
}  // namespace countersign
