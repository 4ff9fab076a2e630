#include "cli/duration_option.hpp"

#include <chrono>
#include <limits>

#include "config/duration.hpp"

namespace countersign {

CLI::Validator DurationSeconds(int64_t min_seconds) {
  const DurationRange range{std::chrono::seconds(min_seconds),
                            std::chrono::seconds(std::numeric_limits<int32_t>::max()), true};
  return CLI::Validator(
      [range](std::string& value) -> std::string {
        // CLI11 puts the option's name in front: "--ttl: must be ...".
        auto parsed = ParseDurationValue(value, "", range);
        if (!parsed.ok()) return parsed.error().message.substr(1);
        value = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*parsed).count());
        return "";
      },
      "");
}

}  // namespace countersign
