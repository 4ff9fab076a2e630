#include "config/duration.hpp"

#include <cstdint>

namespace countersign {
namespace {

using std::chrono::milliseconds;

struct Unit {
  std::string_view suffix;
  int64_t ms;
};

// Largest first: the order a combined duration must follow.
constexpr Unit kUnits[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}};

// Bounds that keep every sum far from overflow: no number above a billion, no total above
// about 31,700 years.
constexpr int64_t kMaxNumber = 1'000'000'000;
constexpr int64_t kMaxTotalMs = 1'000'000'000'000'000;

constexpr std::string_view kExamples = R"("250ms", "30s", "15m", "1h30m" or "7d")";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Digits only, at most kMaxNumber; nullopt otherwise (the empty string included).
std::optional<int64_t> PlainNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t number = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    number = number * 10 + (c - '0');
    if (number > kMaxNumber) return std::nullopt;
  }
  return number;
}

Result<milliseconds> InRange(milliseconds value, const std::string& where,
                             const DurationRange& range) {
  if (value < range.min || value > range.max) {
    return Error::Invalid(where + " must be between " + DurationText(range.min) + " and " +
                          DurationText(range.max));
  }
  return value;
}

}  // namespace

std::optional<milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t next_unit = 0;  // units before this index are used up
  size_t i = 0;
  while (i < text.size()) {
    const size_t digits_start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    const auto number = PlainNumber(text.substr(digits_start, i - digits_start));
    if (!number) return std::nullopt;
    // "ms" is the one two-letter unit; any other unit is one letter.
    const std::string_view suffix = text.substr(i, text.substr(i, 2) == "ms" ? 2 : 1);
    size_t unit = 0;
    while (unit < std::size(kUnits) && kUnits[unit].suffix != suffix) ++unit;
    if (unit == std::size(kUnits) || unit < next_unit) return std::nullopt;
    i += kUnits[unit].suffix.size();
    next_unit = unit + 1;
    total += *number * kUnits[unit].ms;
    if (total > kMaxTotalMs) return std::nullopt;
  }
  return milliseconds(total);
}

std::string DurationText(milliseconds duration) {
  const int64_t ms = duration.count();
  for (const Unit& unit : kUnits) {
    if (ms != 0 && ms % unit.ms == 0) {
      return std::to_string(ms / unit.ms) + std::string(unit.suffix);
    }
  }
  return std::to_string(ms / 1000) + "s";  // zero
}

Result<milliseconds> CheckDurationSeconds(int64_t seconds, const std::string& where,
                                          const DurationRange& range) {
  const bool representable = seconds >= 0 && seconds <= kMaxTotalMs / 1000;
  return InRange(representable ? milliseconds(seconds * 1000) : range.max + milliseconds(1), where,
                 range);
}

Result<milliseconds> ParseDurationValue(std::string_view text, const std::string& where,
                                        const DurationRange& range) {
  if (const auto seconds = PlainNumber(text)) return CheckDurationSeconds(*seconds, where, range);
  const auto parsed = ParseDuration(text);
  if (!parsed) {
    return Error::Invalid(where + " must be a duration like " + std::string(kExamples) +
                          ", or a number of seconds, got '" + std::string(text) + "'");
  }
  if (range.whole_seconds && parsed->count() % 1000 != 0) {
    return Error::Invalid(where + " must be a whole number of seconds, got '" + std::string(text) +
                          "'");
  }
  return InRange(*parsed, where, range);
}

}  // namespace countersign
