// ResponseForm: each field type as an accessible control, and a posted form read back typed.
#include "web/response_form.hpp"

#include <string>

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace countersign {
namespace {

namespace json = boost::json;

ResponseSchema Schema(std::string_view text) {
  auto schema = ResponseSchema::Parse(json::parse(text));
  EXPECT_TRUE(schema.ok()) << schema.error().message;
  return schema.ok() ? std::move(schema).value() : ResponseSchema();
}

const ResponseSchema& EveryType() {
  static const ResponseSchema schema = Schema(R"({
    "type": "object",
    "properties": {
      "reason": {"type": "string", "title": "Why <now>?", "description": "For the log",
                 "maxLength": 80},
      "notes": {"type": "string"},
      "contact": {"type": "string", "format": "email"},
      "when": {"type": "string", "format": "date-time"},
      "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
      "ratio": {"type": "number", "minimum": 0.5},
      "notify": {"type": "boolean", "default": true},
      "env": {"type": "string", "enum": ["dev", "prod"], "enumNames": ["Development", "Production"],
              "default": "prod"},
      "regions": {"type": "array", "items": {"type": "string", "enum": ["eu", "us"]},
                  "minItems": 1, "default": ["us"]}
    },
    "required": ["reason", "env"]
  })");
  return schema;
}

class ResponseFormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto form = ResponseForm::Load();
    ASSERT_TRUE(form.ok()) << form.error().message;
    html_ = form->Render(EveryType()).str();
  }

  bool Has(std::string_view text) const { return html_.find(text) != std::string::npos; }

  std::string html_;
};

TEST_F(ResponseFormTest, EachFieldIsALabelledControlOfItsType) {
  EXPECT_TRUE(
      Has(R"(<label for="r-0">Why &lt;now&gt;? <span class="muted">(required)</span></label>)"))
      << html_;
  EXPECT_TRUE(Has(
      R"(<input type="text" id="r-0" name="r.0" value="" maxlength="80" required aria-describedby="r-0-help">)"))
      << html_;
  EXPECT_TRUE(Has(R"(<p class="muted help" id="r-0-help">For the log</p>)"));
  EXPECT_TRUE(Has(R"(<textarea id="r-1" name="r.1" rows="4">)")) << "long text";
  EXPECT_TRUE(Has(R"(<input type="email" id="r-2" name="r.2")"));
  EXPECT_TRUE(Has(R"(<input type="datetime-local" id="r-3" name="r.3")"));
  EXPECT_TRUE(
      Has(R"(<input type="number" id="r-4" name="r.4" value="3" step="1" min="1" max="10">)"))
      << html_;
  EXPECT_TRUE(Has(R"(<input type="number" id="r-5" name="r.5" value="" step="any" min="0.5">)"))
      << html_;
  EXPECT_TRUE(Has(R"(<input type="checkbox" id="r-6" name="r.6" value="true" checked>)")) << html_;
  EXPECT_TRUE(Has(R"(<select id="r-7" name="r.7" required>)"));
  EXPECT_TRUE(Has(R"(<option value="prod" selected>Production</option>)"));
  EXPECT_FALSE(Has(R"(<select id="r-7" name="r.7" required>
<option value="">)"))
      << "a required choice offers no empty option";
  EXPECT_TRUE(Has(R"(<legend>regions <span class="muted">(choose at least 1)</span></legend>)"))
      << html_;
  EXPECT_TRUE(Has(R"(<input type="checkbox" id="r-8-1" name="r.8.1" value="us" checked>)"))
      << html_;
  EXPECT_TRUE(Has(R"(<input type="checkbox" id="r-8-0" name="r.8.0" value="eu">)"));
}

TEST(ResponseFormDateTimeTest, ADefaultWithAnOffsetIsShownInUtcToTheSecond) {
  auto form = ResponseForm::Load();
  ASSERT_TRUE(form.ok());
  const ResponseSchema schema = Schema(R"({"type":"object","properties":{
      "start": {"type": "string", "format": "date-time", "default": "2026-12-03T01:30:15+02:00"}}})");
  const std::string html = form->Render(schema).str();
  EXPECT_NE(html.find(R"(value="2026-12-02T23:30:15" step="1")"), std::string::npos) << html;
  EXPECT_NE(html.find(R"(<span class="muted">(UTC)</span>)"), std::string::npos) << html;
  // Posted back untouched, it is the same instant.
  auto response = ResponseForm::Read(schema, {{"r.0", "2026-12-02T23:30:15"}});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->at("start"), "2026-12-02T23:30:15Z");
}

TEST(ResponseFormNamesTest, ControlsAreNamedByPositionSoNoFieldNameCanCollide) {
  auto form = ResponseForm::Load();
  ASSERT_TRUE(form.ok());
  const ResponseSchema schema = Schema(R"({"type":"object","properties":{
      "a": {"type": "array", "items": {"enum": ["x", "y"]}}, "a.0": {"type": "string"}}})");
  auto response = ResponseForm::Read(schema, {{"r.0.0", "x"}, {"r.1", "typed"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(json::value(*response), json::parse(R"({"a":["x"],"a.0":"typed"})"));
}

TEST(ResponseFormReadTest, ReadsThePostedFieldsTyped) {
  ResponseForm::Fields form{{"r.0", "hotfix"}, {"r.4", "4"},       {"r.5", "0.75"},
                            {"r.7", "dev"},    {"r.8.0", "eu"},    {"r.3", "2026-12-03T10:30"},
                            {"r.1", ""},       {"csrf", "ignored"}};
  auto response = ResponseForm::Read(EveryType(), form);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(json::value(*response), json::parse(R"({"reason":"hotfix","replicas":4,"ratio":0.75,
      "env":"dev","regions":["eu"],"when":"2026-12-03T10:30:00Z","notify":false})"));
  EXPECT_TRUE(EveryType().Validate(*response).ok());
}

TEST(ResponseFormReadTest, AValueThatIsNotOfItsTypeNamesTheField) {
  auto integer = ResponseForm::Read(EveryType(), {{"r.4", "1.5"}});
  ASSERT_FALSE(integer.ok());
  EXPECT_EQ(integer.error().field, "response.replicas");
  auto number = ResponseForm::Read(EveryType(), {{"r.5", "lots"}});
  ASSERT_FALSE(number.ok());
  EXPECT_EQ(number.error().field, "response.ratio");
  auto boolean = ResponseForm::Read(EveryType(), {{"r.6", "on"}});
  ASSERT_FALSE(boolean.ok());
  EXPECT_EQ(boolean.error().field, "response.notify");
  auto option = ResponseForm::Read(EveryType(), {{"r.8.0", "us"}});
  ASSERT_FALSE(option.ok()) << "option 0 is eu";
  EXPECT_EQ(option.error().field, "response.regions");
}

TEST(ResponseFormReadTest, BlankOptionalFieldsAreLeftOutAndRequiredOnesAreCaughtByTheSchema) {
  auto response = ResponseForm::Read(EveryType(), {{"r.0", ""}, {"r.7", "prod"}});
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->contains("reason"));
  EXPECT_FALSE(response->contains("regions"));
  auto checked = EveryType().Validate(*response);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().field, "response.reason");
}

}  // namespace
}  // namespace countersign
