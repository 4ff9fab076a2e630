// Canonical JSON: the one byte sequence a JSON value hashes as.
//
// Object keys sorted by their UTF-8 bytes, no insignificant whitespace, strings escaped as
// Boost.JSON escapes them, numbers as Boost.JSON prints them. Used for the audit chain, the
// idempotency body hash and the arguments hash. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace countersign {

std::string CanonicalJson(const boost::json::value& value);

// Appends `value`'s canonical JSON to `out`.
void AppendCanonicalJson(const boost::json::value& value, std::string& out);

// Appends `text` as a quoted JSON string, escaped byte for byte as Boost.JSON escapes it:
// `"` and `\` with a backslash, \b \t \n \f \r by name, other bytes below 0x20 as \u00xx,
// everything else (UTF-8 included) as it is.
void AppendJsonString(std::string_view text, std::string& out);

}  // namespace countersign
