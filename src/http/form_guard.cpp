#include "http/form_guard.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <boost/beast/core/string.hpp>

#include "auth/base64url.hpp"
#include "http/cookies.hpp"

namespace countersign {
namespace {

constexpr size_t kValueBytes = 32;
constexpr size_t kValueChars = 43;  // base64url of 32 bytes, unpadded

bool IsWellFormed(std::string_view value) {
  return value.size() == kValueChars && Base64UrlDecode(value).has_value();
}

}  // namespace

std::string FormGuard::ValueFor(const HttpRequest& request) const {
  auto existing = FindCookie(request, cookie_);
  if (existing && IsWellFormed(*existing)) return *existing;
  unsigned char bytes[kValueBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string FormGuard::SetCookie(std::string_view value) const {
  std::string cookie = cookie_ + "=" + std::string(value) + "; Path=" + public_url_.path() + path_ +
                       "; HttpOnly; SameSite=Strict";
  if (public_url_.https()) cookie += "; Secure";
  return cookie;
}

bool FormGuard::Passes(const HttpRequest& request, std::string_view field) const {
  auto cookie = FindCookie(request, cookie_);
  if (!cookie || !IsWellFormed(*cookie) || field.size() != cookie->size() ||
      CRYPTO_memcmp(field.data(), cookie->data(), field.size()) != 0) {
    return false;
  }
  const std::string_view origin = request[http::field::origin];
  if (!origin.empty() && origin != "null" && origin != public_url_.origin()) {
    spdlog::warn("{} refused: Origin {} is not {} (is [server] public_url set?)", what_, origin,
                 public_url_.origin());
    return false;
  }
  const std::string_view site = request["Sec-Fetch-Site"];
  return site != "cross-site" && site != "same-site";
}

bool FormGuard::IsForm(const HttpRequest& request) {
  std::string_view type = request[http::field::content_type];
  const auto semicolon = type.find(';');
  if (semicolon != std::string_view::npos) type = type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return beast::iequals(type, "application/x-www-form-urlencoded");
}

}  // namespace countersign
