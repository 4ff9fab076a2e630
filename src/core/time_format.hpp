// RFC 3339 timestamps with millisecond precision in UTC: "2026-11-21T10:00:00.000Z".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace countersign {

std::string FormatTime(TimePoint t);
// Appends FormatTime(t) as a quoted JSON string, without snprintf (an audit verification formats
// millions, an API answer several): years 0 to 9999 here, any other through FormatTime itself,
// so the text is always the same.
void AppendJsonTime(TimePoint t, std::string& out);

// Accepts the format FormatTime writes (fraction optional). nullopt when malformed.
std::optional<TimePoint> ParseTime(std::string_view text);
// A day as "2026-12-04" (what an HTML date input sends), as its first instant in UTC.
// nullopt when malformed.
std::optional<TimePoint> ParseUtcDay(std::string_view day);

}  // namespace countersign
