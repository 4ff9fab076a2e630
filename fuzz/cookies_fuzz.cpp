// Fuzzes FindCookie (http/cookies.hpp) on Cookie headers as a client sends them: the input is
// a cookie name, a newline, then one Cookie header per further line. Invariant: a value found
// has no ';' and no surrounding space or tab.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/cookies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  const std::string_view name = text.substr(0, newline);
  text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  HttpRequest request{http::verb::post, "/l/token", 11};
  while (!text.empty()) {
    const size_t end = text.find('\n');
    request.insert(http::field::cookie, text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  for (const std::string_view wanted : {name, std::string_view("cs_molecule_csrf")}) {
    const auto value = FindCookie(request, wanted);
    if (!value) continue;
    if (value->find(';') != std::string::npos) __builtin_trap();
    if (!value->empty() && (value->front() == ' ' || value->front() == '\t' ||
                            value->back() == ' ' || value->back() == '\t')) {
      __builtin_trap();
    }
  }
  return 0;
}
