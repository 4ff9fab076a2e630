// PageTemplate: a small logic-less HTML template, parsed once and rendered many times.
//
// Syntax (a subset of Mustache):
//   {{name}}                 the value `name`, HTML-escaped (text) or as is (SafeHtml)
//   {{#name}} ... {{/name}}  the enclosed part when `name` is set and not empty
//   {{^name}} ... {{/name}}  the enclosed part when `name` is unset or empty
// Names are [a-z0-9_]+. Unset names render as nothing. Sections nest. There is no way to
// insert an unescaped string: markup comes in only as SafeHtml, which only escaping or another
// template can make. Parse() rejects unbalanced sections and malformed tags, naming the tag.
// Thread-safe after construction (Render() is const and keeps no state).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"
#include "web/safe_html.hpp"

namespace countersign {

class PageTemplate {
 public:
  class Values {
   public:
    Values& Text(std::string name, std::string text);
    Values& Html(std::string name, SafeHtml html);
    // Sets `name` to a non-empty marker when `on`, for {{#name}} sections.
    Values& Flag(std::string name, bool on);

   private:
    friend class PageTemplate;
    std::map<std::string, SafeHtml, std::less<>> values_;
  };

  // Error::Internal naming `name` (the template's file) and the offending tag.
  static Result<PageTemplate> Parse(std::string_view name, std::string_view text);

  SafeHtml Render(const Values& values) const;

 private:
  struct Node {
    enum class Type { kLiteral, kValue, kSection, kInverted };
    Type type = Type::kLiteral;
    std::string text;  // the literal, or the value's name
    std::vector<Node> children;
  };

  explicit PageTemplate(std::vector<Node> nodes) : nodes_(std::move(nodes)) {}
  static void RenderNodes(const std::vector<Node>& nodes, const Values& values, std::string& out);

  std::vector<Node> nodes_;
};

// The file embedded in this binary under `name` (one of src/web/*.html and *.js), as is.
Result<std::string_view> EmbeddedWebFile(const char* name);
// The template embedded in this binary under `name` (one of src/web/*.html), parsed.
Result<PageTemplate> LoadEmbeddedTemplate(const char* name);

}  // namespace countersign
