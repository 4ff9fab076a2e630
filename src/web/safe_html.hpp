// SafeHtml: markup that is known to be safe to put into a page as it is.
//
// Only HtmlEscape() and PageTemplate::Render() make one, so every value that reaches a page
// has either been escaped or was rendered from a template that escapes its own values; there
// is no way to mark an arbitrary string as safe. A plain value type; safe to copy.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace countersign {

class PageTemplate;

class SafeHtml {
 public:
  SafeHtml() = default;

  const std::string& str() const { return text_; }
  bool empty() const { return text_.empty(); }
  void Append(const SafeHtml& more) { text_ += more.text_; }

 private:
  friend class PageTemplate;
  friend SafeHtml HtmlEscape(std::string_view text);

  explicit SafeHtml(std::string text) : text_(std::move(text)) {}

  std::string text_;
};

// Escapes & < > " ' so that `text` is inert both in element content and in a quoted
// attribute value.
SafeHtml HtmlEscape(std::string_view text);

}  // namespace countersign
