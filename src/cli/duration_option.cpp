#include "cli/duration_option.hpp"

#include <chrono>
#include <optional>
#include <string_view>

#include "config/duration.hpp"

namespace countersign {
namespace {

// The longest a duration option takes: about 68 years, in whole days so that it reads as one.
constexpr int64_t kMaxSeconds = 24'855LL * 86'400;

// Digits only (a plain number of seconds, which the grammar reads too).
bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

CLI::Validator DurationSeconds(int64_t min_seconds) {
  const DurationRange range{std::chrono::seconds(min_seconds), std::chrono::seconds(kMaxSeconds),
                            true};
  return CLI::Validator(
      [range, min_seconds](std::string& value) -> std::string {
        // CLI11 puts the option's name in front: "--ttl: must be ...". The words are the CLI's
        // own, plainer than the config file's: a person typed this a moment ago.
        const std::string got = ", got '" + value + "'";
        const std::optional<std::chrono::milliseconds> parsed =
            AllDigits(value) ? std::nullopt : ParseDuration(value);
        if (!AllDigits(value) && !parsed) {
          return "must be a duration such as 90s, 15m or 1h (or a number of seconds)" + got;
        }
        if (parsed && parsed->count() % 1000 != 0) {
          return "must be a whole number of seconds, such as 2s or 90s" + got;
        }
        auto checked = ParseDurationValue(value, "", range);
        if (!checked.ok()) {
          return (min_seconds == 0 ? std::string("must be 0 or a duration up to ")
                                   : "must be a duration from " +
                                         DurationText(std::chrono::seconds(min_seconds)) + " to ") +
                 DurationText(std::chrono::seconds(kMaxSeconds)) + got;
        }
        value = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*checked).count());
        return "";
      },
      "");
}

}  // namespace countersign
