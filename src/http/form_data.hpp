// ParseFormData: reads an application/x-www-form-urlencoded body (what an HTML form posts).
//
// '+' is a space and %XX a byte; a key or value must decode to valid UTF-8. Error::Malformed
// for a bad escape, invalid UTF-8 or a key given twice (a form this server renders never
// repeats one, so a repeat is someone else's form). Pure function; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace countersign {

using FormData = std::map<std::string, std::string, std::less<>>;

Result<FormData> ParseFormData(std::string_view body);
// The value of field `key`, or "" when the form has none.
std::string FormField(const FormData& form, std::string_view key);

}  // namespace countersign
