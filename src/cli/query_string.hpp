// Building request targets from user input: percent-encoding and query strings.
// Pure value types and functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace countersign {

// Encodes everything but RFC 3986 unreserved characters, so `text` is safe as one path
// segment or one query value.
std::string PercentEncode(std::string_view text);

// "?a=1&b=x%20y", or "" when nothing was added.
class QueryString {
 public:
  // Adds `key=value`; an empty value is left out (the API reads it as "no filter").
  QueryString& Add(std::string_view key, std::string_view value);
  QueryString& Add(std::string_view key, long long value);

  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

}  // namespace countersign
