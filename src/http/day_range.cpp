#include "http/day_range.hpp"

#include <chrono>
#include <string>

#include "core/time_format.hpp"

namespace countersign {
namespace {

Result<std::optional<TimePoint>> ReadDay(std::string_view day, std::string_view name) {
  if (day.empty()) return std::optional<TimePoint>();
  auto at = ParseUtcDay(day);
  if (!at) {
    return Error::Invalid("the " + std::string(name) +
                          " date must be a day like 2026-12-04, not '" + Echo(day) + "'");
  }
  return at;
}

}  // namespace

Status ReadDayRange(std::string_view from, std::string_view to, std::optional<TimePoint>& start,
                    std::optional<TimePoint>& end) {
  auto first = ReadDay(from, "from");
  if (!first.ok()) return std::move(first).error();
  auto last = ReadDay(to, "to");
  if (!last.ok()) return std::move(last).error();
  if (first.value() && last.value() && *last.value() < *first.value()) {
    return Error::Invalid("the to date is before the from date");
  }
  start = first.value();
  if (last.value()) end = *last.value() + std::chrono::hours(24);  // the whole day
  return Ok();
}

}  // namespace countersign
