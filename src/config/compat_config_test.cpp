#include "config/compat_config.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

Result<CompatOptions> Read(std::string_view text) {
  return ReadCompatTables(toml::parse(text), "c.toml");
}

TEST(CompatConfigTest, EveryAdapterIsOffWithoutItsTable) {
  auto read = Read("");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_FALSE(read->hermes.enabled);
  EXPECT_FALSE(read->molecule.enabled);
  EXPECT_FALSE(read->aisoc.enabled);
}

TEST(CompatConfigTest, ReadsTheSharedAndTheOwnKeysOfEachAdapter) {
  auto read = Read(R"(
[compat.hermes]
enabled = true
tenant = "ops"
principal = "hermes-bot"
anonymous = false
rate_limit = 3

[compat.molecule]
enabled = true
anonymous = false
default_tenant = ""
workspaces = { "ws-1" = "acme" }

[compat.aisoc]
enabled = true
principal = "soc"
timeout_seconds = 600
allow_hosts = ["127.0.0.1"]
)");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read->hermes.enabled);
  EXPECT_EQ(read->hermes.tenant, "ops");
  EXPECT_EQ(read->hermes.principal, "hermes-bot");
  EXPECT_FALSE(read->hermes.anonymous);
  EXPECT_EQ(read->hermes.rate_limit, 3);
  EXPECT_TRUE(read->molecule.enabled);
  EXPECT_FALSE(read->molecule.anonymous);
  EXPECT_EQ(read->molecule.default_tenant, "");
  EXPECT_EQ(read->molecule.workspaces.at("ws-1"), "acme");
  EXPECT_TRUE(read->aisoc.enabled);
  EXPECT_EQ(read->aisoc.principal, "soc");
  EXPECT_EQ(read->aisoc.timeout, std::chrono::seconds(600));
  EXPECT_EQ(read->aisoc.allow_hosts, std::vector<std::string>{"127.0.0.1"});
}

TEST(CompatConfigTest, ErrorsNameTheFileLineAndKey) {
  auto unknown = Read("[compat.molecule]\ntenant = \"x\"\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message.rfind("c.toml:2: compat.molecule.tenant: unknown key", 0), 0u)
      << unknown.error().message;
  auto wrong_type = Read("[compat.hermes]\nenabled = \"yes\"\n");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().message, "c.toml:2: compat.hermes.enabled must be true or false");
  auto adapter = Read("[compat.hermse]\n");
  ASSERT_FALSE(adapter.ok());
  EXPECT_NE(adapter.error().message.find("unknown adapter (hermes, molecule, aisoc)"),
            std::string::npos);
}

}  // namespace
}  // namespace countersign
