// The [[channel]] tables as channels see them: scalars as text, arrays and tables flattened.
#include "config/notify_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace countersign {
namespace {

Result<NotifyConfig> Read(std::string_view text) {
  return ReadNotifyTables(toml::parse(text), "cs.toml");
}

TEST(NotifyConfigTest, AnEmptyVariableIsToldApartFromAnUnsetOne) {
  ::unsetenv("CS_NOTIFY_TEST_UNSET");
  ::setenv("CS_NOTIFY_TEST_EMPTY", "", 1);
  ::setenv("CS_NOTIFY_TEST_SET", "s3cret", 1);
  EXPECT_EQ(ResolveSecret("env:CS_NOTIFY_TEST_UNSET", "f:1: k").error().message,
            "f:1: k: environment variable CS_NOTIFY_TEST_UNSET is not set");
  EXPECT_EQ(ResolveSecret("env:CS_NOTIFY_TEST_EMPTY", "f:1: k").error().message,
            "f:1: k: environment variable CS_NOTIFY_TEST_EMPTY is empty");
  EXPECT_EQ(ResolveSecret("env:CS_NOTIFY_TEST_SET", "f:1: k").value(), "s3cret");
  EXPECT_EQ(ResolveSecret("env:", "f:1: k").error().message,
            "f:1: k: env: names no environment variable");
}

TEST(NotifyConfigTest, ArraysBecomeCommaListsAndTablesBecomeDottedKeys) {
  auto read = Read(R"(
[[channel]]
name = "email-ops"
type = "email"
to = ["ops@example.com", "oncall@example.com"]
addresses = { alice = "alice@example.com", "bob.smith" = "bob@example.com" }
port = 587
)");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->channels.size(), 1u);
  EXPECT_EQ(read->channels[0].values,
            (std::map<std::string, std::string>{{"to", "ops@example.com,oncall@example.com"},
                                                {"addresses.alice", "alice@example.com"},
                                                {"addresses.bob.smith", "bob@example.com"},
                                                {"port", "587"}}));
}

TEST(NotifyConfigTest, ListAndTableItemsMayBeSecretsAndBadOnesNameTheirKey) {
  ::setenv("CS_NOTIFY_CONFIG_TEST_ADDRESS", "secret@example.com", 1);
  auto read = Read(R"(
[[channel]]
name = "e"
type = "email"
addresses = { carol = "env:CS_NOTIFY_CONFIG_TEST_ADDRESS" }
)");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->channels[0].values.at("addresses.carol"), "secret@example.com");

  const auto error = [](std::string_view text) {
    auto r = Read(text);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(error("[[channel]]\nname = \"e\"\ntype = \"email\"\nto = [\"a@x.y\", 3]\n"),
            "cs.toml:4: channel[0].to must be an array of strings");
  EXPECT_EQ(error("[[channel]]\nname = \"e\"\ntype = \"email\"\nto = [\"a@x.y,b@x.y\"]\n"),
            "cs.toml:4: channel[0].to: an item holds ',' ('a@x.y,b@x.y')");
  EXPECT_EQ(error("[[channel]]\nname = \"e\"\ntype = \"email\"\naddresses = { a = [\"x\"] }\n"),
            "cs.toml:4: channel[0].addresses.a must be a string");
  EXPECT_EQ(error("[[channel]]\nname = [\"e\"]\ntype = \"email\"\n"),
            "cs.toml:2: channel[0].name must be a string");
}

TEST(NotifyConfigTest, AWebhookCarriesLinksOnlyWhenItsTableAsks) {
  auto read = Read(R"(
[[webhook]]
name = "audit-sink"
url = "https://sink.example.com/in"
secret = "0123456789abcdef"

[[webhook]]
name = "notifier"
url = "https://notifier.example.com/in"
secret = "0123456789abcdef"
links = true
)");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->webhooks.size(), 2u);
  EXPECT_FALSE(read->webhooks[0].links);
  EXPECT_TRUE(read->webhooks[1].links);

  auto wrong = Read(R"(
[[webhook]]
name = "notifier"
url = "https://notifier.example.com/in"
secret = "0123456789abcdef"
links = "yes"
)");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("webhook[0].links must be true or false"), std::string::npos)
      << wrong.error().message;
}

}  // namespace
}  // namespace countersign
