// `serve`'s options: one per setting of the table, each also read from its variable.
#include "cli/serve.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "config/server_settings.hpp"

namespace countersign {
namespace {

// A value of the right form for `setting`.
std::string ValueFor(const ServerSetting& setting) {
  switch (setting.kind) {
    case SettingKind::kSwitch:
    case SettingKind::kChoice:
      return setting.choices.back();
    case SettingKind::kInteger:
      return std::to_string(setting.min + 1);
    case SettingKind::kDuration:
      return "20s";
    case SettingKind::kText:
      break;
  }
  return "value-of-" + setting.name;
}

// Parses `countersign serve ARGS`; the error of a refused command line, else "".
std::string Parse(const std::string& args, ServeOptions& options) {
  CLI::App app("test", "countersign");
  AddServeCommand(app, options);
  try {
    app.parse("serve " + args, /*program_name_included=*/false);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(ServeCommandTest, EverySettingIsAFlag) {
  for (const ServerSetting& setting : ServerSettings()) {
    SCOPED_TRACE(setting.flag);
    ServeOptions options;
    const std::string value = ValueFor(setting);
    ASSERT_EQ(Parse(setting.flag + " " + value, options), "");
    EXPECT_EQ(options.given,
              (std::map<std::string, std::string, std::less<>>{{setting.name, value}}));
  }
}

TEST(ServeCommandTest, EverySettingIsAVariableAndTheFlagWins) {
  for (const ServerSetting& setting : ServerSettings()) {
    SCOPED_TRACE(setting.env);
    const std::string value = ValueFor(setting);
    ::setenv(setting.env.c_str(), value.c_str(), 1);
    ServeOptions from_env;
    EXPECT_EQ(Parse("", from_env), "");
    EXPECT_EQ(from_env.given[setting.name], value);

    const std::string flag_value =
        setting.kind == SettingKind::kText ? "from-flag" : setting.default_text;
    if (!flag_value.empty()) {
      ServeOptions both;
      EXPECT_EQ(Parse(setting.flag + " " + flag_value, both), "");
      EXPECT_EQ(both.given[setting.name], flag_value);
    }
    ::unsetenv(setting.env.c_str());
  }
}

TEST(ServeCommandTest, NothingGivenLeavesEverySettingToTheFileAndDefaults) {
  ServeOptions options;
  ASSERT_EQ(Parse("", options), "");
  EXPECT_TRUE(options.given.empty());
}

TEST(ServeCommandTest, AValueOfTheWrongFormIsAUsageError) {
  ServeOptions options;
  EXPECT_NE(Parse("--auth maybe", options).find("--auth"), std::string::npos);
  EXPECT_NE(Parse("--log-level loud", options).find("--log-level"), std::string::npos);
  EXPECT_NE(Parse("--threads four", options).find("'four' is not an integer"), std::string::npos);
  EXPECT_NE(Parse("--stream-heartbeat soon", options).find("--stream-heartbeat"),
            std::string::npos);
  // The form is right; the range is the config's to check (and to name).
  ServeOptions range;
  EXPECT_EQ(Parse("--threads 999 --stream-heartbeat 1m30s", range), "");
  auto loaded = LoadServerConfig(range);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, "--threads must be 0-256");
}

}  // namespace
}  // namespace countersign
