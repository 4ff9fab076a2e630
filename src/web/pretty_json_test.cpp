#include "web/pretty_json.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace countersign {
namespace {

TEST(PrettyJsonTest, IndentsNestedValuesTwoSpacesAKey) {
  const auto value = boost::json::parse(R"({"ref":"v2.0","hosts":["a","b"],"opts":{},"n":[]})");
  EXPECT_EQ(PrettyJson(value),
            "{\n"
            "  \"ref\": \"v2.0\",\n"
            "  \"hosts\": [\n"
            "    \"a\",\n"
            "    \"b\"\n"
            "  ],\n"
            "  \"opts\": {},\n"
            "  \"n\": []\n"
            "}");
}

TEST(PrettyJsonTest, ScalarsAndEscapesAreValidJson) {
  EXPECT_EQ(PrettyJson(boost::json::parse(R"("a\"b\n")")), R"("a\"b\n")");
  EXPECT_EQ(PrettyJson(boost::json::parse("null")), "null");
  const auto round =
      boost::json::parse(PrettyJson(boost::json::parse(R"({"k\"":[1,{"x":true}]})")));
  EXPECT_EQ(round, boost::json::parse(R"({"k\"":[1,{"x":true}]})"));
}

}  // namespace
}  // namespace countersign
