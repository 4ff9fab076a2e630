#include "cli/number_option.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

// Parses `--limit VALUE`; the number the option got, or the parser's message.
std::string Limit(const std::string& value, CLI::Validator check) {
  CLI::App app("test");
  int64_t number = -1;
  app.add_option("--limit", number)->check(check);
  try {
    app.parse("--limit=" + value, /*program_name_included=*/false);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return std::to_string(number);
}

TEST(NumberOptionTest, TakesWholeNumbersInTheRange) {
  EXPECT_EQ(Limit("1", WholeNumber(1, 500)), "1");
  EXPECT_EQ(Limit("500", WholeNumber(1, 500)), "500");
  EXPECT_EQ(Limit("0", WholeNumber(0)), "0");
  EXPECT_EQ(Limit("-3", WholeNumber(-5, 5)), "-3");
}

TEST(NumberOptionTest, SaysTheRangeInPlainWords) {
  EXPECT_EQ(Limit("0", WholeNumber(1, 500)),
            "--limit: must be a whole number from 1 to 500, got '0'");
  EXPECT_EQ(Limit("501", WholeNumber(1, 500)),
            "--limit: must be a whole number from 1 to 500, got '501'");
  EXPECT_EQ(Limit("-1", WholeNumber(0)), "--limit: must be a whole number 0 or more, got '-1'");
}

TEST(NumberOptionTest, RefusesWhatIsNotAWholeNumber) {
  for (const char* value : {"2.5", "ten", "3x", "+3", "99999999999999999999"}) {
    EXPECT_EQ(Limit(value, WholeNumber(1, 500)),
              std::string("--limit: must be a whole number from 1 to 500, got '") + value + "'")
        << value;
  }
}

}  // namespace
}  // namespace countersign
