// FindCookie: the value of one cookie in a request's Cookie header(s) (RFC 6265 §5.4 form:
// "a=1; b=2"). Values are returned as sent (no unquoting or decoding). Pure function;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/beast.hpp"

namespace countersign {

// The first cookie named `name`; nullopt when there is none.
std::optional<std::string> FindCookie(const HttpRequest& request, std::string_view name);

}  // namespace countersign
