#include "notify/button_key.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace countersign {
namespace {

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";

TEST(ButtonKeyTest, AKeyNamesTheRequestAndTheChoicePositionInAtMost36Bytes) {
  EXPECT_EQ(ButtonKey::Encode(kId, 0), "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0");
  EXPECT_EQ(ButtonKey::Encode(kId, 99).size(), 36u);
  EXPECT_LE(ButtonKey::kMaxBytes, 64u) << "Telegram's callback_data limit";
  for (size_t i : {0u, 1u, 9u, 10u, 99u}) {
    auto key = ButtonKey::Parse(ButtonKey::Encode(kId, i));
    ASSERT_TRUE(key) << i;
    EXPECT_EQ(key->request_id, kId);
    EXPECT_EQ(key->choice_index, i);
    EXPECT_EQ(key->grant_scope, "");
  }
}

TEST(ButtonKeyTest, AGrantKeyAddsOneLetterForTheScopeAndStaysWithinTelegramsLimit) {
  EXPECT_EQ(ButtonKey::Encode(kId, 0, "session"), "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0:s");
  EXPECT_EQ(ButtonKey::Encode(kId, 3, "requester"), "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:3:r");
  const std::string longest = ButtonKey::Encode(kId, 99, "requester");
  EXPECT_EQ(longest.size(), ButtonKey::kMaxBytes);
  EXPECT_LE(ButtonKey::kMaxBytes, 64u) << "Telegram's callback_data limit";
  for (const char* scope : {"session", "requester"}) {
    for (size_t i : {0u, 1u, 10u, 99u}) {
      auto key = ButtonKey::Parse(ButtonKey::Encode(kId, i, scope));
      ASSERT_TRUE(key) << scope << i;
      EXPECT_EQ(key->request_id, kId);
      EXPECT_EQ(key->choice_index, i);
      EXPECT_EQ(key->grant_scope, scope);
    }
  }
}

TEST(ButtonKeyTest, AKeyCarriesNoDurationAndNoScopeButTheTwoLetters) {
  // Only the scope travels: the duration is the request's own option, looked up on receipt.
  const std::string id = kId;
  for (const std::string& text :
       {"cs:" + id + ":0:t", "cs:" + id + ":0:S", "cs:" + id + ":0:session", "cs:" + id + ":0:s:1h",
        "cs:" + id + ":0:", "cs:" + id + "::s", "cs:" + id + ":0:s:", "cs:" + id + ":0:rr"}) {
    EXPECT_FALSE(ButtonKey::Parse(text)) << text;
  }
  // A scope the encoder does not know makes a plain key, never a grant.
  EXPECT_EQ(ButtonKey::Encode(kId, 0, "tenant"), ButtonKey::Encode(kId, 0));
}

TEST(ButtonKeyTest, AnythingButAnExactKeyIsNotOne) {
  const std::string id = kId;
  const std::vector<std::string> not_keys = {std::string(),
                                             std::string("cs:"),
                                             "cs:" + id,
                                             "cs:" + id + ":",
                                             "cs:" + id + ":01",
                                             "cs:" + id + ":100",
                                             "cs:" + id + ":-1",
                                             "cs:" + id + ":1x",
                                             "cs:" + id + ":0:0",
                                             "xs:" + id + ":0",
                                             id + ":0",
                                             "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2:0",
                                             "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2U:0",
                                             "cs:dlv_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0",
                                             std::string("menu:settings")};
  for (const std::string& text : not_keys) {
    EXPECT_FALSE(ButtonKey::Parse(text)) << text;
  }
}

}  // namespace
}  // namespace countersign
