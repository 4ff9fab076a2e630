#include "core/json_duplicate_keys.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(FindDuplicateKeyTest, TheSecondOfTwoEqualKeysIsFound) {
  EXPECT_EQ(FindDuplicateKey(R"({"cmd":"ls","cmd":"rm -rf /"})"), "cmd");
  EXPECT_EQ(FindDuplicateKey(R"({"a":{"x":1,"y":2,"x":3}})"), "x") << "in a nested object";
  EXPECT_EQ(FindDuplicateKey(R"([{"ok":1},{"k":1,"k":2}])"), "k") << "in an array";
  EXPECT_EQ(FindDuplicateKey(R"({"caf\u00e9":1,"café":2})"), "café") << "after unescaping";
}

TEST(FindDuplicateKeyTest, EqualKeysInDifferentObjectsAreFine) {
  EXPECT_EQ(FindDuplicateKey(R"({"a":{"id":1},"b":{"id":2},"id":3})"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey(R"([{"id":1},{"id":2}])"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey(R"({"a":1,"A":2})"), std::nullopt) << "keys are case-sensitive";
}

TEST(FindDuplicateKeyTest, TextThatIsNotJsonFindsNothing) {
  EXPECT_EQ(FindDuplicateKey(""), std::nullopt);
  EXPECT_EQ(FindDuplicateKey("{\"a\":"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey("not json"), std::nullopt);
}

}  // namespace
}  // namespace countersign
