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

}  // namespace
}  // namespace countersign
