#include "cli/duration_option.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

// Parses `--ttl VALUE`; the seconds the option got, or the parser's message.
std::string Ttl(const std::string& value, int64_t min_seconds = 1) {
  CLI::App app("test");
  int64_t seconds = -1;
  app.add_option("--ttl", seconds)->transform(DurationSeconds(min_seconds));
  try {
    app.parse("--ttl " + value, /*program_name_included=*/false);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return std::to_string(seconds);
}

TEST(DurationOptionTest, TakesTheGrammarAndPlainSeconds) {
  EXPECT_EQ(Ttl("600"), "600");
  EXPECT_EQ(Ttl("15m"), "900");
  EXPECT_EQ(Ttl("1h30m"), "5400");
  EXPECT_EQ(Ttl("7d"), "604800");
  EXPECT_EQ(Ttl("2000ms"), "2");
  EXPECT_EQ(Ttl("0", /*min_seconds=*/0), "0");
}

TEST(DurationOptionTest, RefusesWhatIsNotAWholeNumberOfSecondsInRange) {
  EXPECT_EQ(Ttl("soon"),
            "--ttl: must be a duration such as 90s, 15m or 1h (or a number of seconds), got "
            "'soon'");
  EXPECT_EQ(Ttl("30m1h"),
            "--ttl: must be a duration such as 90s, 15m or 1h (or a number of seconds), got "
            "'30m1h'");
  EXPECT_EQ(Ttl("1500ms"),
            "--ttl: must be a whole number of seconds, such as 2s or 90s, got "
            "'1500ms'");
  EXPECT_EQ(Ttl("0"), "--ttl: must be a duration from 1s to 24855d, got '0'");
  EXPECT_EQ(Ttl("30000d"), "--ttl: must be a duration from 1s to 24855d, got '30000d'");
  EXPECT_EQ(Ttl("99999999999"), "--ttl: must be a duration from 1s to 24855d, got '99999999999'");
  EXPECT_EQ(Ttl("30000d", /*min_seconds=*/0),
            "--ttl: must be 0 or a duration up to 24855d, got '30000d'");
  EXPECT_NE(Ttl("-5").find("--ttl"), std::string::npos);
}

}  // namespace
}  // namespace countersign
