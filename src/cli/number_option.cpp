#include "cli/number_option.hpp"

#include <charconv>
#include <string>
#include <system_error>

namespace countersign {

CLI::Validator WholeNumber(int64_t min, int64_t max) {
  const std::string range = max == std::numeric_limits<int64_t>::max()
                                ? std::to_string(min) + " or more"
                                : "from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, range](std::string& value) -> std::string {
        // CLI11 puts the option's name in front: "--limit: must be ...".
        int64_t number = 0;
        const char* end = value.data() + value.size();
        const auto [stop, error] = std::from_chars(value.data(), end, number);
        const bool whole =
            !value.empty() && error == std::errc() && stop == end && value.front() != '+';
        if (!whole || number < min || number > max) {
          return "must be a whole number " + range + ", got '" + value + "'";
        }
        return "";
      },
      "");
}

}  // namespace countersign
