// FormGuard: the anti-CSRF check of an HTML form this server renders (the one-click link
// page, the Molecule confirm page): a double-submit cookie.
//
// The page sets the cookie (random, HttpOnly, SameSite=Strict, Path=<public path><path>,
// Secure under https) and puts the same value in the hidden field `csrf`; the POST must
// carry both, equal (constant-time compare). It is also refused when Origin is present and is
// neither `null` nor public_url's origin, or when Sec-Fetch-Site says cross-site or
// same-site. (`Origin: null` is what browsers send for a form on a page served with
// Referrer-Policy: no-referrer, so it cannot be refused.)
//
// Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/public_url.hpp"
#include "http/beast.hpp"

namespace countersign {

class FormGuard {
 public:
  static constexpr const char* kField = "csrf";

  // `cookie`: the cookie's name; `path`: where it is sent, under the public path ("/l/");
  // `what`: the form, for the log ("one-click link POST").
  FormGuard(PublicUrl public_url, std::string cookie, std::string path, std::string what)
      : public_url_(std::move(public_url)),
        cookie_(std::move(cookie)),
        path_(std::move(path)),
        what_(std::move(what)) {}

  // The value for a page about to be rendered: the browser's cookie when it holds a
  // well-formed one (so a form open in another tab keeps working), else a new random one.
  // Empty only if the system's random source fails; the caller then renders no form.
  std::string ValueFor(const HttpRequest& request) const;
  // The Set-Cookie header value that hands `value` to the browser.
  std::string SetCookie(std::string_view value) const;
  // Whether a POST carries a matching cookie and `field` and comes from this server's page.
  bool Passes(const HttpRequest& request, std::string_view field) const;

  const std::string& cookie() const { return cookie_; }

  // Whether the request's body is an HTML form (application/x-www-form-urlencoded).
  static bool IsForm(const HttpRequest& request);

 private:
  const PublicUrl public_url_;
  const std::string cookie_;
  const std::string path_;
  const std::string what_;
};

}  // namespace countersign
