#include "web/page_template.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

std::string Render(std::string_view text, const PageTemplate::Values& values) {
  auto parsed = PageTemplate::Parse("test.html", text);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? parsed->Render(values).str() : "";
}

TEST(PageTemplateTest, TextValuesAreEscapedEverywhere) {
  PageTemplate::Values v;
  v.Text("name", "<script>alert('x')</script> & \"q\"");
  EXPECT_EQ(Render("<p title=\"{{name}}\">{{name}}</p>", v),
            "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\">"
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>");
}

TEST(PageTemplateTest, SafeHtmlFromAnotherTemplateIsInsertedAsIs) {
  auto inner = PageTemplate::Parse("inner.html", "<b>{{x}}</b>");
  ASSERT_TRUE(inner.ok());
  PageTemplate::Values inner_values;
  inner_values.Text("x", "<i>");
  PageTemplate::Values v;
  v.Html("content", inner->Render(inner_values));
  EXPECT_EQ(Render("<div>{{content}}</div>", v), "<div><b>&lt;i&gt;</b></div>");
}

TEST(PageTemplateTest, SectionsShowWhenSetAndInvertedSectionsWhenNot) {
  PageTemplate::Values v;
  v.Text("a", "A").Text("empty", "").Flag("on", true).Flag("off", false);
  EXPECT_EQ(Render("{{#a}}[{{a}}]{{/a}}{{^a}}none{{/a}}", v), "[A]");
  EXPECT_EQ(Render("{{#empty}}x{{/empty}}{{^empty}}y{{/empty}}", v), "y");
  EXPECT_EQ(Render("{{#missing}}x{{/missing}}{{^missing}}y{{/missing}}", v), "y");
  EXPECT_EQ(Render("{{#on}}1{{#off}}2{{/off}}{{^off}}3{{/off}}{{/on}}", v), "13");
}

TEST(PageTemplateTest, UnsetValuesRenderAsNothing) { EXPECT_EQ(Render("a{{nothing}}b", {}), "ab"); }

TEST(PageTemplateTest, LiteralBracesAndTextOutsideTagsSurvive) {
  EXPECT_EQ(Render("body { color: red; } } {", {}), "body { color: red; } } {");
}

TEST(PageTemplateTest, MalformedTemplatesAreRefusedNamingTheTag) {
  for (std::string_view bad :
       {"{{#a}}x", "{{/a}}", "{{#a}}{{/b}}", "{{a", "{{A}}", "{{}}", "{{{a}}}", "{{ a }}"}) {
    auto parsed = PageTemplate::Parse("bad.html", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("bad.html"), std::string::npos);
  }
}

}  // namespace
}  // namespace countersign
