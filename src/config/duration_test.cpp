// The one duration grammar, alone and as config keys and flags read it.
#include "config/duration.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "config/compat_config.hpp"
#include "config/server_config.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DurationGrammarTest, AcceptsEachUnitAndCombinationsInDescendingOrder) {
  const std::pair<const char*, milliseconds> cases[] = {
      {"250ms", milliseconds(250)},
      {"30s", seconds(30)},
      {"15m", minutes(15)},
      {"1h30m", minutes(90)},
      {"7d", hours(7 * 24)},
      {"0s", milliseconds(0)},
      {"1m30s500ms", milliseconds(90'500)},
      {"1d2h3m4s5ms", milliseconds(((26 * 60 + 3) * 60 + 4) * 1000 + 5)},
      {"2h0m", hours(2)},
  };
  for (const auto& [text, expected] : cases) {
    const auto parsed = ParseDuration(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, expected) << text;
  }
}

TEST(DurationGrammarTest, RefusesUnitsOutOfOrderRepeatedUnknownOrWithoutNumber) {
  for (const char* text :
       {"", "15", "30m1h", "1s1m", "1h1h", "500ms1s", "1.5h", "5M", "5 m", "-5m", "+5m", "ms", "1x",
        "1mss", "1hm", "1d ", "99999999999s", "1000000000d"}) {
    EXPECT_FALSE(ParseDuration(text).has_value()) << text;
  }
}

TEST(DurationGrammarTest, TextUsesTheLargestUnitThatDivides) {
  EXPECT_EQ(DurationText(milliseconds(250)), "250ms");
  EXPECT_EQ(DurationText(milliseconds(1500)), "1500ms");
  EXPECT_EQ(DurationText(seconds(90)), "90s");
  EXPECT_EQ(DurationText(minutes(15)), "15m");
  EXPECT_EQ(DurationText(minutes(90)), "90m");
  EXPECT_EQ(DurationText(hours(48)), "2d");
  EXPECT_EQ(DurationText(seconds(0)), "0s");
}

constexpr DurationRange kOneSecondToADay{seconds(1), hours(24), true};

TEST(DurationValueTest, APlainNumberIsSecondsAsBefore) {
  auto parsed = ParseDurationValue("90", "--ttl", kOneSecondToADay);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value(), seconds(90));
  auto grammar = ParseDurationValue("1h30m", "--ttl", kOneSecondToADay);
  ASSERT_TRUE(grammar.ok()) << grammar.error().message;
  EXPECT_EQ(grammar.value(), minutes(90));
}

TEST(DurationValueTest, EachRefusalNamesTheKeyAndSaysWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"soon",
       "--ttl must be a duration like \"250ms\", \"30s\", \"15m\", \"1h30m\" or \"7d\", "
       "or a number of seconds, got 'soon'"},
      {"30m1h", "--ttl must be a duration like"},
      {"1500ms", "--ttl must be a whole number of seconds, got '1500ms'"},
      {"0", "--ttl must be between 1s and 1d"},
      {"2d", "--ttl must be between 1s and 1d"},
      {"99999999999", "--ttl must be a duration like"},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = ParseDurationValue(text, "--ttl", kOneSecondToADay);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalid);
    EXPECT_EQ(parsed.error().message.rfind(expected, 0), 0u) << parsed.error().message;
  }
  const DurationRange millis{milliseconds(10), hours(1), false};
  auto fine = ParseDurationValue("1500ms", "outbox.retry_base", millis);
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ(fine.value(), milliseconds(1500));
}

class DurationKeyTest : public ::testing::Test {
 protected:
  Result<ServerConfig> Load(const std::string& text) {
    const std::string path = dir_.File("countersign.toml");
    std::ofstream(path, std::ios::trunc) << text;
    ServeOptions options;
    options.given["config"] = path;
    return LoadServerConfig(options);
  }
  // The error after "<path>:".
  std::string ErrorOf(const std::string& text) {
    auto loaded = Load(text);
    if (loaded.ok()) return "ok";
    const std::string prefix = dir_.File("countersign.toml") + ":";
    const std::string& message = loaded.error().message;
    return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
  }

  testing::TempDir dir_;
};

TEST_F(DurationKeyTest, EveryDurationKeyTakesTheGrammar) {
  auto loaded = Load(R"toml([server]
default_timeout_seconds = "15m"
stream_heartbeat_seconds = "1m30s"

[[policy]]
name = "p"
timeout = "1h30m"
remind_every = "7d"
escalate_to = [{ approvers = ["bob"], timeout = "2h" }]

[limits]
rate_per_action = "100/1h30m"

[outbox]
retry_base = "250ms"
retry_max = "1h30m"
timeout = "1m"

[compat.aisoc]
timeout_seconds = "2h"

[compat.molecule]
replay_window_seconds = "10m"
)toml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->default_timeout, minutes(15));
  EXPECT_EQ(loaded->stream_heartbeat, seconds(90));
  const Policy& policy = loaded->policies->policies()[0];
  EXPECT_EQ(policy.timeout, minutes(90));
  EXPECT_EQ(policy.remind_every, hours(7 * 24));
  EXPECT_EQ(policy.escalate_to[0].timeout, hours(2));
  EXPECT_EQ(loaded->limits.action_window, minutes(90));
  EXPECT_EQ(loaded->notify.outbox.retry_base, milliseconds(250));
  EXPECT_EQ(loaded->notify.outbox.retry_max, minutes(90));
  EXPECT_EQ(loaded->notify.outbox.call_timeout, minutes(1));
  EXPECT_EQ(loaded->compat.aisoc.timeout, hours(2));
  EXPECT_EQ(loaded->compat.molecule.replay_window, minutes(10));
}

TEST_F(DurationKeyTest, PlainNumbersKeepTheirMeaningOfSeconds) {
  auto loaded = Load(R"toml([server]
default_timeout_seconds = 120
stream_heartbeat_seconds = 5

[[policy]]
name = "p"
timeout = 90

[outbox]
retry_base = "2"
retry_max = 600

[compat.aisoc]
timeout_seconds = 600

[compat.molecule]
replay_window_seconds = 0
)toml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->default_timeout, seconds(120));
  EXPECT_EQ(loaded->stream_heartbeat, seconds(5));
  EXPECT_EQ(loaded->policies->policies()[0].timeout, seconds(90));
  EXPECT_EQ(loaded->notify.outbox.retry_base, seconds(2));
  EXPECT_EQ(loaded->notify.outbox.retry_max, seconds(600));
  EXPECT_EQ(loaded->compat.aisoc.timeout, seconds(600));
  EXPECT_EQ(loaded->compat.molecule.replay_window, seconds(0));
}

TEST_F(DurationKeyTest, AnInvalidDurationNamesItsLineAndKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"[[policy]]\nname = \"p\"\ntimeout = \"30m1h\"\n",
       "3: policy[0].timeout must be a duration like"},
      {"[[policy]]\nname = \"p\"\ntimeout = \"1500ms\"\n",
       "3: policy[0].timeout must be a whole number of seconds, got '1500ms'"},
      {"[server]\n\nstream_heartbeat_seconds = \"2h\"\n",
       "3: server.stream_heartbeat_seconds must be between 1s and 1h"},
      {"[server]\ndefault_timeout_seconds = \"15 minutes\"\n",
       "2: server.default_timeout_seconds must be a duration like"},
      {"[server]\ndefault_timeout_seconds = 2592001\n",
       "2: server.default_timeout_seconds must be between 1s and 30d"},
      {"[outbox]\nretry_base = \"5ms\"\n", "2: outbox.retry_base must be between 10ms and 1h"},
      {"[outbox]\ntimeout = \"1.5s\"\n", "2: outbox.timeout must be a duration like"},
      {"[compat.aisoc]\ntimeout_seconds = \"30s\"\n",
       "2: compat.aisoc.timeout_seconds must be between 1m and 30d"},
      {"[compat.molecule]\nreplay_window_seconds = \"2d\"\n",
       "2: compat.molecule.replay_window_seconds must be between 0s and 1d"},
      {"[limits]\nrate_per_action = \"60/500ms\"\n",
       "2: limits.rate_per_action must be \"N/WINDOW\""},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = ErrorOf(text);
    EXPECT_EQ(error.rfind(expected, 0), 0u) << text << "\n" << error;
  }
}

TEST_F(DurationKeyTest, ADurationFlagNamesTheFlag) {
  ServeOptions options;
  options.given["stream_heartbeat"] = "90m";
  auto loaded = LoadServerConfig(options);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, "--stream-heartbeat must be between 1s and 1h");
  options.given["stream_heartbeat"] = "2m";
  options.given["default_timeout"] = "1h30m";
  auto fine = LoadServerConfig(options);
  ASSERT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ(fine->stream_heartbeat, minutes(2));
  EXPECT_EQ(fine->default_timeout, minutes(90));
}

}  // namespace
}  // namespace countersign
