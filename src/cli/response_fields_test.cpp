// ResponseFromFields: --field NAME=VALUE typed by the request's form.
#include "cli/response_fields.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace countersign {
namespace {

namespace json = boost::json;

ResponseSchema Form() {
  auto schema = ResponseSchema::Parse(json::parse(R"({"type":"object","properties":{
      "zip": {"type": "string"}, "replicas": {"type": "integer"}, "ratio": {"type": "number"},
      "notify": {"type": "boolean"},
      "env": {"type": "string", "oneOf": [{"const": "prod", "title": "Production"},
                                          {"const": "dev", "title": "Development"}]},
      "regions": {"type": "array", "items": {"type": "string", "enum": ["eu", "us", "ap"]}}}})"));
  EXPECT_TRUE(schema.ok());
  return std::move(schema).value();
}

TEST(ResponseFieldsTest, TypesEachValueByItsField) {
  auto response = ResponseFromFields(Form(), {"zip=01234", "replicas=3", "ratio=0.5", "notify=yes",
                                              "env=Development", "regions=eu,us", "regions=ap"});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(json::value(*response), json::parse(R"({"zip":"01234","replicas":3,"ratio":0.5,
      "notify":true,"env":"dev","regions":["eu","us","ap"]})"));
}

TEST(ResponseFieldsTest, RefusesUnknownFieldsAndValuesOfTheWrongTypeNamingThem) {
  auto unknown = ResponseFromFields(Form(), {"colour=red"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "response.colour");
  EXPECT_NE(unknown.error().message.find("its fields: zip, replicas"), std::string::npos)
      << unknown.error().message;
  EXPECT_EQ(ResponseFromFields(Form(), {"replicas=three"}).error().field, "response.replicas");
  EXPECT_EQ(ResponseFromFields(Form(), {"replicas=1.5"}).error().field, "response.replicas");
  EXPECT_EQ(ResponseFromFields(Form(), {"ratio="}).error().field, "response.ratio");
  EXPECT_EQ(ResponseFromFields(Form(), {"notify=maybe"}).error().field, "response.notify");
  EXPECT_EQ(ResponseFromFields(Form(), {"env=staging"}).error().field, "response.env");
  EXPECT_EQ(ResponseFromFields(Form(), {"regions=eu,mars"}).error().field, "response.regions");
  EXPECT_EQ(ResponseFromFields(Form(), {"zip=1", "zip=2"}).error().field, "response.zip");
  EXPECT_FALSE(ResponseFromFields(Form(), {"no-equals-sign"}).ok());
}

}  // namespace
}  // namespace countersign
