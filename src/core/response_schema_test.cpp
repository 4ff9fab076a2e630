// ResponseSchema: which forms it takes (the MCP elicitation subset) and refuses, naming the
// keyword at fault, and how it judges a response, naming the field at fault.
#include "core/response_schema.hpp"

#include <string>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace countersign {
namespace {

namespace json = boost::json;

constexpr char kEveryType[] = R"({
  "type": "object",
  "properties": {
    "reason": {"type": "string", "title": "Reason", "minLength": 3, "maxLength": 20},
    "email": {"type": "string", "format": "email"},
    "on": {"type": "string", "format": "date"},
    "at": {"type": "string", "format": "date-time"},
    "site": {"type": "string", "format": "uri"},
    "ratio": {"type": "number", "minimum": 0, "maximum": 1},
    "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
    "notify": {"type": "boolean", "default": true},
    "env": {"type": "string", "enum": ["dev", "prod"], "enumNames": ["Development", "Production"]},
    "tier": {"type": "string", "oneOf": [{"const": "gold", "title": "Gold"}, {"const": "free"}]},
    "regions": {"type": "array", "items": {"type": "string", "enum": ["eu", "us", "ap"]},
                "minItems": 1, "maxItems": 2},
    "checks": {"type": "array", "items": {"anyOf": [{"const": "lint", "title": "Lint"},
                                                    {"const": "test", "title": "Test"}]}}
  },
  "required": ["reason", "env"]
})";

ResponseSchema MustParse(std::string_view text) {
  auto schema = ResponseSchema::Parse(json::parse(text));
  EXPECT_TRUE(schema.ok()) << schema.error().message;
  return schema.ok() ? std::move(schema).value() : ResponseSchema();
}

// The field an invalid schema is refused for ("" when it is accepted).
std::string RefusedAt(std::string_view text) {
  auto schema = ResponseSchema::Parse(json::parse(text));
  if (schema.ok()) return "";
  EXPECT_EQ(schema.error().code, ErrorCode::kInvalid);
  EXPECT_NE(schema.error().message.find(schema.error().field), std::string::npos)
      << "the message names the field: " << schema.error().message;
  return schema.error().field;
}

// The field a response is refused for ("" when it passes).
std::string FaultIn(const ResponseSchema& schema, std::string_view response) {
  auto checked = schema.Validate(json::parse(response).as_object());
  if (checked.ok()) return "";
  EXPECT_EQ(checked.error().code, ErrorCode::kInvalid);
  return checked.error().field;
}

TEST(ResponseSchemaTest, ReadsEveryPropertyTypeOfTheElicitationSubset) {
  ResponseSchema schema = MustParse(kEveryType);
  ASSERT_EQ(schema.fields().size(), 12u);
  const SchemaField* reason = schema.FindField("reason");
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(reason->type, FieldType::kString);
  EXPECT_EQ(reason->title, "Reason");
  EXPECT_TRUE(reason->required);
  EXPECT_EQ(reason->min_length, 3);
  EXPECT_EQ(reason->max_length, 20);
  EXPECT_EQ(schema.FindField("email")->format, "email");
  EXPECT_EQ(schema.FindField("ratio")->type, FieldType::kNumber);
  EXPECT_EQ(schema.FindField("replicas")->type, FieldType::kInteger);
  EXPECT_EQ(schema.FindField("replicas")->default_value, json::value(3));
  EXPECT_EQ(schema.FindField("notify")->type, FieldType::kBoolean);
  const SchemaField* env = schema.FindField("env");
  EXPECT_EQ(env->type, FieldType::kEnum);
  ASSERT_EQ(env->options.size(), 2u);
  EXPECT_EQ(env->options[1].value, "prod");
  EXPECT_EQ(env->options[1].title, "Production");
  const SchemaField* tier = schema.FindField("tier");
  EXPECT_EQ(tier->type, FieldType::kEnum);
  EXPECT_EQ(tier->options[0].title, "Gold");
  EXPECT_EQ(tier->options[1].title, "free") << "an option without a title shows its value";
  EXPECT_EQ(schema.FindField("regions")->type, FieldType::kMultiSelect);
  EXPECT_EQ(schema.FindField("regions")->max_items, 2);
  EXPECT_EQ(schema.FindField("checks")->options[0].title, "Lint");
  EXPECT_EQ(schema.FindField("site")->title, "site") << "an untitled field shows its name";
  EXPECT_FALSE(schema.FindField("email")->required);
}

TEST(ResponseSchemaTest, RefusesWhatIsNotAFlatFormAndNamesTheKeyword) {
  EXPECT_EQ(RefusedAt(R"([])"), "response_schema");
  EXPECT_EQ(RefusedAt(R"({"type":"array","properties":{"a":{"type":"string"}}})"),
            "response_schema.type");
  EXPECT_EQ(RefusedAt(R"({"type":"object"})"), "response_schema.properties");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{}})"), "response_schema.properties");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"object"}}})"),
            "response_schema.properties.a.type");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":"string"}})"),
            "response_schema.properties.a");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a b":{"type":"string"}}})"),
            "response_schema.properties");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"integer","minimum":"1"}}})"),
            "response_schema.properties.a.minimum");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"number","minimum":5,
              "maximum":1}}})"),
            "response_schema.properties.a.minimum");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string","maxLength":-1}}})"),
            "response_schema.properties.a.maxLength");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string","format":"ipv4"}}})"),
            "response_schema.properties.a.format");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string","enum":[]}}})"),
            "response_schema.properties.a.enum");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string","enum":["x","x"]}}})"),
            "response_schema.properties.a");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string","enum":["x"],
              "enumNames":["X","Y"]}}})"),
            "response_schema.properties.a.enumNames");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"array","items":{}}}})"),
            "response_schema.properties.a.items");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"array",
              "items":{"enum":["x"]},"maxItems":2}}})"),
            "response_schema.properties.a.maxItems")
      << "more items than options can never be chosen";
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"boolean","default":"yes"}}})"),
            "response_schema.properties.a.default");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["b"]})"),
            "response_schema.required");
  EXPECT_EQ(RefusedAt(R"({"type":"object","properties":{"a":{"type":"string"}},"required":"a"})"),
            "response_schema.required");
}

TEST(ResponseSchemaTest, RefusesMoreFieldsThanAPersonShouldFill) {
  json::object properties;
  for (size_t i = 0; i <= ResponseSchema::kMaxFields; ++i) {
    properties["f" + std::to_string(i)] = json::object{{"type", "string"}};
  }
  auto schema = ResponseSchema::Parse(json::object{{"type", "object"}, {"properties", properties}});
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.error().field, "response_schema.properties");
}

TEST(ResponseSchemaTest, AResponseFillingTheFormPasses) {
  ResponseSchema schema = MustParse(kEveryType);
  EXPECT_EQ(FaultIn(schema, R"({"reason":"hotfix","env":"prod"})"), "");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"hotfix","env":"dev","email":"a@example.com",
      "on":"2028-02-29","at":"2026-12-03T10:00:00.5+01:00","site":"https://example.com/x",
      "ratio":0.5,"replicas":4,"notify":false,"tier":"gold","regions":["eu","us"],
      "checks":[]})"),
            "");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"hotfix","env":"dev","replicas":4.0})"), "")
      << "4.0 is an integer";
  EXPECT_EQ(FaultIn(schema, R"({"reason":"h\u00e9h","env":"dev"})"), "")
      << "lengths count characters, not bytes";
}

TEST(ResponseSchemaTest, EachFaultNamesItsField) {
  ResponseSchema schema = MustParse(kEveryType);
  EXPECT_EQ(FaultIn(schema, R"({"env":"prod"})"), "response.reason") << "required";
  EXPECT_EQ(FaultIn(schema, R"({"reason":null,"env":"prod"})"), "response.reason");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok","env":"prod","extra":1})"), "response.extra");
  EXPECT_EQ(FaultIn(schema, R"({"reason":7,"env":"prod"})"), "response.reason");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"no","env":"prod"})"), "response.reason") << "minLength";
  EXPECT_EQ(FaultIn(schema, R"({"reason":"123456789012345678901","env":"prod"})"),
            "response.reason")
      << "maxLength";
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"staging"})"), "response.env");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","tier":"silver"})"), "response.tier");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","email":"nobody"})"), "response.email");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","on":"2027-02-29"})"), "response.on");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","at":"2026-12-03 10:00"})"),
            "response.at");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","site":"not a uri"})"),
            "response.site");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","ratio":"0.5"})"), "response.ratio");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","ratio":1.5})"), "response.ratio");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","replicas":1.5})"),
            "response.replicas");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","replicas":0})"), "response.replicas");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","notify":"true"})"), "response.notify");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","regions":"eu"})"), "response.regions");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","regions":["mars"]})"),
            "response.regions");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","regions":["eu","eu"]})"),
            "response.regions");
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","regions":[]})"), "response.regions")
      << "minItems";
  EXPECT_EQ(FaultIn(schema, R"({"reason":"ok!","env":"prod","regions":["eu","us","ap"]})"),
            "response.regions")
      << "maxItems";
}

TEST(ResponseSchemaTest, KeepsTheSchemaAsGiven) {
  ResponseSchema schema = MustParse(kEveryType);
  EXPECT_EQ(json::value(schema.json()), json::parse(kEveryType));
}

}  // namespace
}  // namespace countersign
