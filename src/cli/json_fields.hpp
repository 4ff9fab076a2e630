// Reading fields of API answers for display, without throwing: an absent, null or
// differently typed field reads as empty. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace countersign {

// `text` with control characters (C0, DEL, C1) shown as \xNN, so text from the server can
// never drive the terminal (escape sequences in a title or comment).
std::string DisplaySafe(std::string_view text);

// A string made DisplaySafe; a number or bool as JSON text; anything else "".
std::string Text(const boost::json::value& value);
std::string TextField(const boost::json::object& object, std::string_view key);

std::optional<std::int64_t> IntField(const boost::json::object& object, std::string_view key);

// The array / object under `key`, or an empty one.
const boost::json::array& ArrayField(const boost::json::object& object, std::string_view key);
const boost::json::object& ObjectField(const boost::json::object& object, std::string_view key);

// The elements' Text joined by `separator`.
std::string Join(const boost::json::array& array, std::string_view separator);

// Each entry of an answer's `warnings` (what the server changed from what was asked, such
// as a timeout cut to a policy's max_timeout) as a "countersign: warning: ..." line on `out`.
void PrintWarnings(std::ostream& out, const boost::json::object& answer);

// "2026-11-21T10:00:00.000Z" → "2026-11-21 10:00:00Z"; other text unchanged.
std::string ShortTime(std::string_view timestamp);

}  // namespace countersign
