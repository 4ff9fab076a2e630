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
  EXPECT_NE(Ttl("soon").find("--ttl: must be a duration like"), std::string::npos) << Ttl("soon");
  EXPECT_NE(Ttl("1500ms").find("--ttl: must be a whole number of seconds"), std::string::npos);
  EXPECT_NE(Ttl("0").find("--ttl: must be between 1s and"), std::string::npos) << Ttl("0");
  EXPECT_NE(Ttl("-5").find("--ttl"), std::string::npos);
  EXPECT_NE(Ttl("30m1h").find("must be a duration like"), std::string::npos);
}

}  // namespace
}  // namespace countersign
