#include "http/cookies.hpp"

namespace countersign {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> FindCookie(const HttpRequest& request, std::string_view name) {
  // HTTP/2 proxies may split the header into several; each is searched in order.
  const auto headers = request.equal_range(http::field::cookie);
  for (auto it = headers.first; it != headers.second; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      const size_t semicolon = rest.find(';');
      const std::string_view pair = Trim(rest.substr(0, semicolon));
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      const size_t equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      if (Trim(pair.substr(0, equals)) == name) return std::string(Trim(pair.substr(equals + 1)));
    }
  }
  return std::nullopt;
}

}  // namespace countersign
