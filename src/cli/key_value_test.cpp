#include "cli/key_value.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "cli/json_fields.hpp"
#include "cli/query_string.hpp"

namespace countersign {
namespace {

TEST(KeyValueTest, SplitsAtTheFirstEquals) {
  auto split = SplitKeyValue("query=a=b");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->first, "query");
  EXPECT_EQ(split->second, "a=b");
}

TEST(KeyValueTest, EmptyValueIsAllowed) {
  auto split = SplitKeyValue("note=");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->second, "");
}

TEST(KeyValueTest, MissingEqualsOrKeyIsAnError) {
  EXPECT_FALSE(SplitKeyValue("novalue").ok());
  EXPECT_FALSE(SplitKeyValue("=v").ok());
}

TEST(KeyValueTest, ValuesThatAreJsonStayJson) {
  EXPECT_EQ(boost::json::serialize(LooseJsonValue("3")), "3");
  EXPECT_EQ(boost::json::serialize(LooseJsonValue("true")), "true");
  EXPECT_EQ(boost::json::serialize(LooseJsonValue("null")), "null");
  EXPECT_EQ(boost::json::serialize(LooseJsonValue(R"({"a":[1]})")), R"({"a":[1]})");
  EXPECT_EQ(boost::json::serialize(LooseJsonValue(R"("quoted")")), R"("quoted")");
}

TEST(KeyValueTest, OtherValuesAreStrings) {
  EXPECT_EQ(boost::json::serialize(LooseJsonValue("v2.0-rc1")), R"("v2.0-rc1")");
  EXPECT_EQ(boost::json::serialize(LooseJsonValue("")), R"("")");
  EXPECT_EQ(boost::json::serialize(LooseJsonValue("{broken")), R"("{broken")");
}

TEST(KeyValueTest, ParseJsonObjectRejectsNonObjects) {
  EXPECT_TRUE(ParseJsonObject(R"({"a":1})").ok());
  EXPECT_FALSE(ParseJsonObject("[1]").ok());
  EXPECT_FALSE(ParseJsonObject("{").ok());
}

TEST(QueryStringTest, EncodesValuesAndSkipsEmptyOnes) {
  QueryString query;
  query.Add("status", "pending").Add("action", "").Add("title", "a b&c/é").Add("limit", 5);
  EXPECT_EQ(query.str(), "?status=pending&title=a%20b%26c%2F%C3%A9&limit=5");
  EXPECT_EQ(QueryString().Add("x", "").str(), "");
}

TEST(JsonFieldsTest, ShortTimeDropsTheFraction) {
  EXPECT_EQ(ShortTime("2026-11-21T10:00:00.000Z"), "2026-11-21 10:00:00Z");
  EXPECT_EQ(ShortTime(""), "");
  EXPECT_EQ(ShortTime("soon"), "soon");
}

}  // namespace
}  // namespace countersign

namespace countersign {
namespace {

TEST(DisplaySafeTest, ShowsControlCharactersInsteadOfSendingThemToTheTerminal) {
  EXPECT_EQ(DisplaySafe("Deploy v2.0 \u2014 prod"), "Deploy v2.0 \u2014 prod");
  EXPECT_EQ(DisplaySafe("evil\x1b]0;pwned\x07 title"), "evil\\x1b]0;pwned\\x07 title");
  EXPECT_EQ(DisplaySafe("line\nbreak\x7f"), "line\\x0abreak\\x7f");
  EXPECT_EQ(DisplaySafe("c1 \xc2\x9b"
                        "31m"),
            "c1 \\x9b31m");
}

}  // namespace
}  // namespace countersign
