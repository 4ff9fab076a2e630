// ParseNewRequest and ParseNewDecision: shapes and types of the v1 bodies.
#include "engine/new_request.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

Result<NewRequest> Request(const char* body) { return ParseNewRequest(boost::json::parse(body)); }

TEST(NewRequestTest, IntegersMayBeWrittenAsWholeDoublesWithinRange) {
  auto parsed = Request(R"({"action":"deploy","title":"t","quorum":2.0,"timeout_seconds":6e1})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->quorum, 2);
  EXPECT_EQ(parsed->timeout_seconds, 60);
}

// Found by fuzz/new_request_fuzz: casting a whole double past int64's range to int64 was
// undefined behaviour (UBSan: "outside the range of representable values").
TEST(NewRequestTest, AWholeNumberPastInt64IsNotAnIntegerAndNotUndefinedBehaviour) {
  for (const char* body : {R"({"action":"deploy","title":"t","quorum":92233720368547854775808.0})",
                           R"({"action":"deploy","title":"t","timeout_seconds":1e19})",
                           R"({"action":"deploy","title":"t","timeout_seconds":-1e300})",
                           R"({"action":"deploy","title":"t","quorum":2.5})"}) {
    SCOPED_TRACE(body);
    auto parsed = Request(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kMalformed);
    EXPECT_NE(parsed.error().message.find("must be an integer"), std::string::npos);
  }
}

TEST(NewRequestTest, AGrantTtlPastInt64IsRefusedToo) {
  auto parsed = ParseNewDecision(boost::json::parse(
      R"({"choice":"approve","grant":{"scope":"session","ttl_seconds":7.4e30}})"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kMalformed);
}

TEST(NewRequestTest, ReceiptConstraintsTakeRfc3339OrUnixSecondsAndUsesInRange) {
  auto decision = [](const char* body) { return ParseNewDecision(boost::json::parse(body)); };
  auto text = decision(
      R"({"choice":"approve","receipt":{"not_after":"2026-11-21T10:00:00Z","max_uses":3}})");
  ASSERT_TRUE(text.ok()) << text.error().message;
  ASSERT_TRUE(text->receipt && text->receipt->not_after);
  EXPECT_EQ(ToUnixMillis(*text->receipt->not_after), 1795255200000);
  EXPECT_EQ(text->receipt->max_uses, 3);
  auto seconds = decision(R"({"choice":"approve","receipt":{"not_after":1795255200}})");
  ASSERT_TRUE(seconds.ok()) << seconds.error().message;
  EXPECT_EQ(seconds->receipt->not_after, text->receipt->not_after);
  EXPECT_EQ(seconds->receipt->max_uses, 0);
  EXPECT_FALSE(decision(R"({"choice":"approve","receipt":null})")->receipt.has_value());

  for (const char* body : {R"({"choice":"approve","receipt":{"max_uses":0}})",
                           R"({"choice":"approve","receipt":{"max_uses":1001}})",
                           R"({"choice":"approve","receipt":{"not_after":"tomorrow"}})",
                           R"({"choice":"approve","receipt":{"not_after":-5}})"}) {
    SCOPED_TRACE(body);
    auto parsed = decision(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalid);
    EXPECT_TRUE(parsed.error().field.starts_with("receipt.")) << parsed.error().field;
  }
  for (const char* body :
       {R"({"choice":"approve","receipt":[]})", R"({"choice":"approve","receipt":{}})",
        R"({"choice":"approve","receipt":{"max_uses":"3"}})",
        R"({"choice":"approve","receipt":{"not_after":true}})"}) {
    SCOPED_TRACE(body);
    auto parsed = decision(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kMalformed);
  }
}

}  // namespace
}  // namespace countersign
