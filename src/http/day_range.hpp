// ReadDayRange: the "from" and "to" days of the inbox's filters (HTML date inputs, UTC days,
// both included) as the half-open range [start, end) the store filters on. An empty day
// leaves its end of the range open; a malformed one, or a "to" before "from", is
// Error::Invalid saying which. Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace countersign {

Status ReadDayRange(std::string_view from, std::string_view to, std::optional<TimePoint>& start,
                    std::optional<TimePoint>& end);

}  // namespace countersign
