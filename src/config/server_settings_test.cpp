// The settings table: every setting reachable by its flag (or variable) and its file key,
// with one check, one default and one place in the docs.
#include "config/server_settings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/server_config.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

// A value for each setting, and what the setting then shows. A new setting needs a line here.
struct Sample {
  std::string value;
  std::string shown{};  // empty: as `value`
};

const std::map<std::string, Sample>& Samples() {
  static const std::map<std::string, Sample> samples = {
      {"listen", {"127.0.0.1:7999"}},
      {"store", {"sqlite:elsewhere/cs.db"}},
      {"auth", {"off"}},
      {"integrity_check", {"off"}},
      {"accept_audit_gap", {"on"}},
      {"metrics_auth", {"on"}},
      {"config", {""}},  // the file itself: see ConfigNamesTheFile
      {"data_dir", {"some/dir"}},
      {"port_file", {"cs.port"}},
      {"log_level", {"debug"}},
      {"log_format", {"json"}},
      {"access_log", {"on"}},
      {"retention_resolved_after", {"400d"}},
      {"retention_interval", {"30m"}},
      {"threads", {"3"}},
      {"tls_cert", {"cert.pem"}},
      {"tls_key", {"key.pem"}},
      {"default_timeout", {"1h30m", "90m"}},
      {"stream_queue", {"50"}},
      {"stream_heartbeat", {"20", "20s"}},
      {"mcp_progress", {"2", "2s"}},
      {"audit_checkpoint_every", {"50"}},
      {"audit_checkpoint_interval", {"2m"}},
      {"public_url", {"HTTPS://Approvals.Example.com/cs", "https://approvals.example.com/cs"}},
      {"hermes_rate_limit", {"5"}},
  };
  return samples;
}

// TLS needs both files; giving one means giving the other too.
void GiveCompanion(const std::string& name, ServeOptions& options) {
  if (name == "tls_cert") options.given["tls_key"] = "key.pem";
  if (name == "tls_key") options.given["tls_cert"] = "cert.pem";
}

class ServerSettingsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.File("countersign.toml");
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  // "[server]\nlisten = "..."\n" for `setting` set to `value`.
  static std::string FileSetting(const ServerSetting& setting, const std::string& value) {
    const auto dot = setting.file_key.rfind('.');
    const bool bare = setting.kind == SettingKind::kInteger;
    return "[" + setting.file_key.substr(0, dot) + "]\n" + setting.file_key.substr(dot + 1) +
           " = " + (bare ? value : "\"" + value + "\"") + "\n";
  }

  testing::TempDir dir_;
};

TEST_F(ServerSettingsTest, FlagAndVariableNamesAreDerivedFromTheName) {
  std::set<std::string> flags, envs, keys;
  for (const ServerSetting& s : ServerSettings()) {
    SCOPED_TRACE(s.name);
    std::string dashed = s.name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    EXPECT_EQ(s.flag, "--" + dashed);
    std::string upper = s.name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(s.env, "COUNTERSIGN_" + upper);
    EXPECT_TRUE(flags.insert(s.flag).second);
    EXPECT_TRUE(envs.insert(s.env).second);
    if (!s.file_key.empty()) {
      EXPECT_TRUE(keys.insert(s.file_key).second);
    }
    EXPECT_NE(s.apply, nullptr);
    EXPECT_NE(s.show, nullptr);
    EXPECT_FALSE(s.help.empty());
    EXPECT_FALSE(s.value_name.empty());
    EXPECT_EQ(FindServerSetting(s.name), &s);
  }
  EXPECT_EQ(FindServerSetting("nope"), nullptr);
}

TEST_F(ServerSettingsTest, EveryFlagVariableAndKeyOfEarlierVersionsIsStillThere) {
  std::set<std::string> flags, envs, keys;
  for (const ServerSetting& s : ServerSettings()) {
    flags.insert(s.flag);
    envs.insert(s.env);
    keys.insert(s.file_key);
  }
  for (const char* flag : {"--listen", "--store", "--auth", "--config", "--data-dir", "--port-file",
                           "--log-level", "--threads", "--tls-cert", "--tls-key", "--stream-queue",
                           "--stream-heartbeat", "--public-url", "--hermes-rate-limit"}) {
    EXPECT_EQ(flags.count(flag), 1u) << flag;
  }
  for (const char* env : {"COUNTERSIGN_LISTEN", "COUNTERSIGN_STORE", "COUNTERSIGN_AUTH",
                          "COUNTERSIGN_CONFIG", "COUNTERSIGN_DATA_DIR", "COUNTERSIGN_LOG_LEVEL",
                          "COUNTERSIGN_THREADS", "COUNTERSIGN_TLS_CERT", "COUNTERSIGN_TLS_KEY",
                          "COUNTERSIGN_STREAM_QUEUE", "COUNTERSIGN_STREAM_HEARTBEAT",
                          "COUNTERSIGN_PUBLIC_URL", "COUNTERSIGN_HERMES_RATE_LIMIT"}) {
    EXPECT_EQ(envs.count(env), 1u) << env;
  }
  for (const char* key :
       {"server.listen", "server.store", "server.auth", "server.data_dir", "server.log_level",
        "server.threads", "server.tls_cert", "server.tls_key", "server.default_timeout_seconds",
        "server.stream_queue", "server.stream_heartbeat_seconds", "server.public_url",
        "compat.hermes.rate_limit"}) {
    EXPECT_EQ(keys.count(key), 1u) << key;
  }
}

TEST_F(ServerSettingsTest, APostgresStoreIsTakenShownWithoutItsPasswordAndAnEmptyOneRefused) {
  ServeOptions options;
  options.given["store"] = "postgres://cs:s3cret@db.internal:5432/countersign?sslmode=require";
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->store_url, options.given["store"]);
  EXPECT_EQ(config->store_path, "");
  EXPECT_EQ(config->data_dir, "data");  // no database file to sit beside
  const std::string shown = FindServerSetting("store")->show(*config);
  EXPECT_EQ(shown, "postgres://cs:***@db.internal:5432/countersign?sslmode=require");
  EXPECT_EQ(RedactedStoreUrl("postgresql:///countersign?host=/run&password=pw&user=cs"),
            "postgresql:///countersign?host=/run&password=***&user=cs");

  options.given["store"] = "";
  auto refused = LoadServerConfig(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("store must be sqlite:PATH or postgres://"),
            std::string::npos)
      << refused.error().message;
}

TEST_F(ServerSettingsTest, TheRetentionTableIsReadAndItsUnknownKeysRefused) {
  ServeOptions options;
  options.given["config"] =
      Write("[server]\nthreads = 2\n\n[retention]\nresolved_after = \"400d\"\ninterval = 60\n");
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->retention_resolved_after, std::chrono::seconds(400 * 86400));
  EXPECT_EQ(config->retention_interval, std::chrono::seconds(60));
  EXPECT_EQ(config->threads, 2);

  options.given["config"] = Write("[retention]\nkeep = \"400d\"\n");
  auto unknown = LoadServerConfig(options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find(":2: retention.keep: unknown key"), std::string::npos)
      << unknown.error().message;

  options.given["config"] = Write("[retention]\ninterval = \"0s\"\n");
  auto too_short = LoadServerConfig(options);
  ASSERT_FALSE(too_short.ok());
  EXPECT_NE(too_short.error().message.find("retention.interval"), std::string::npos)
      << too_short.error().message;
}

TEST_F(ServerSettingsTest, NoFlagsAndNoFileGiveEachDefault) {
  auto config = LoadServerConfig(ServeOptions{});
  ASSERT_TRUE(config.ok()) << config.error().message;
  for (const ServerSetting& s : ServerSettings()) {
    if (!s.default_text.empty()) {
      EXPECT_EQ(s.show(*config), s.default_text) << s.name;
    }
  }
  EXPECT_EQ(config->listen_host, "127.0.0.1");
  EXPECT_EQ(config->listen_port, 7400);
  EXPECT_EQ(config->store_path, "./data/countersign.db");
  EXPECT_TRUE(config->auth);
  EXPECT_EQ(config->data_dir, "./data");
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->threads, 0);
  EXPECT_EQ(config->default_timeout, std::chrono::seconds(300));
  EXPECT_EQ(config->stream_queue, 1000);
  EXPECT_EQ(config->stream_heartbeat, std::chrono::seconds(15));
  EXPECT_EQ(config->compat.hermes.rate_limit, 10);
  EXPECT_EQ(config->public_url, "");
  EXPECT_EQ(config->log_format, "text");
  EXPECT_FALSE(config->access_log);
  EXPECT_EQ(config->retention_resolved_after, std::chrono::seconds(0));
}

TEST_F(ServerSettingsTest, EachSettingIsReachableByItsFlagAndItsFileKey) {
  for (const ServerSetting& s : ServerSettings()) {
    SCOPED_TRACE(s.name);
    ASSERT_EQ(Samples().count(s.name), 1u) << "add a sample for the new setting";
    if (s.name == "config") continue;
    const Sample& sample = Samples().at(s.name);
    const std::string shown = sample.shown.empty() ? sample.value : sample.shown;

    ServeOptions by_flag;
    by_flag.given[s.name] = sample.value;
    GiveCompanion(s.name, by_flag);
    auto flagged = LoadServerConfig(by_flag);
    ASSERT_TRUE(flagged.ok()) << flagged.error().message;
    EXPECT_EQ(s.show(*flagged), shown);
    if (s.file_key.empty()) continue;  // a flag for one start only (accept_audit_gap)

    ServeOptions by_file;
    by_file.given["config"] = Write(FileSetting(s, sample.value));
    GiveCompanion(s.name, by_file);
    auto filed = LoadServerConfig(by_file);
    ASSERT_TRUE(filed.ok()) << filed.error().message;
    EXPECT_EQ(s.show(*filed), shown);

    // The flag wins over the file.
    if (!s.default_text.empty()) {
      by_file.given[s.name] = s.default_text;
      auto both = LoadServerConfig(by_file);
      ASSERT_TRUE(both.ok()) << both.error().message;
      EXPECT_EQ(s.show(*both), s.default_text);
    }
  }
}

TEST_F(ServerSettingsTest, ConfigNamesTheFile) {
  ServeOptions options;
  options.given["config"] = Write("[server]\nthreads = 2\n");
  auto config = LoadServerConfig(options);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(FindServerSetting("config")->show(*config), options.given["config"]);
  EXPECT_TRUE(FindServerSetting("config")->file_key.empty());
  EXPECT_EQ(config->threads, 2);
}

TEST_F(ServerSettingsTest, AcceptingAnAuditGapIsNotAFileKey) {
  EXPECT_TRUE(FindServerSetting("accept_audit_gap")->file_key.empty());
  ServeOptions options;
  options.given["config"] = Write("[server]\naccept_audit_gap = \"on\"\n");
  auto config = LoadServerConfig(options);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("accept_audit_gap"), std::string::npos)
      << config.error().message;
}

TEST_F(ServerSettingsTest, OutOfRangeNamesTheKeyOrTheFlag) {
  for (const ServerSetting& s : ServerSettings()) {
    if (s.kind != SettingKind::kInteger && s.kind != SettingKind::kDuration) continue;
    SCOPED_TRACE(s.name);
    const std::string too_big =
        s.kind == SettingKind::kInteger
            ? std::to_string(s.max + 1)
            : std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(s.duration.max).count() + 1);
    const std::string too_small =
        s.kind == SettingKind::kInteger
            ? std::to_string(s.min - 1)
            : std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(s.duration.min).count() - 1);
    for (const std::string& value : {too_big, too_small}) {
      ServeOptions by_flag;
      by_flag.given[s.name] = value;
      auto flagged = LoadServerConfig(by_flag);
      ASSERT_FALSE(flagged.ok()) << value;
      EXPECT_EQ(flagged.error().message.rfind(s.flag + " must be", 0), 0u)
          << flagged.error().message;

      if (value.front() == '-' && s.kind == SettingKind::kDuration) continue;  // no TOML form
      ServeOptions by_file;
      const std::string path = Write("\n" + FileSetting(s, value));
      by_file.given["config"] = path;
      auto filed = LoadServerConfig(by_file);
      ASSERT_FALSE(filed.ok()) << value;
      EXPECT_EQ(filed.error().message.rfind(path + ":3: " + s.file_key + " must be", 0), 0u)
          << filed.error().message;
    }
  }
}

TEST_F(ServerSettingsTest, AFlagOfTheWrongFormIsNamedBeforeParsing) {
  const ServerSetting& threads = *FindServerSetting("threads");
  EXPECT_EQ(threads.CheckForm("4"), "");
  EXPECT_EQ(threads.CheckForm("four"), "'four' is not an integer");
  const ServerSetting& heartbeat = *FindServerSetting("stream_heartbeat");
  EXPECT_EQ(heartbeat.CheckForm("15"), "");
  EXPECT_EQ(heartbeat.CheckForm("1m30s"), "");
  EXPECT_NE(heartbeat.CheckForm("soon"), "");
  EXPECT_EQ(FindServerSetting("listen")->CheckForm("anything"), "");
  EXPECT_EQ(heartbeat.HelpText(),
            "time between keep-alives on an idle live stream, 1s to 1h (default 15s)");
  EXPECT_EQ(FindServerSetting("hermes_rate_limit")->FileKeyText(), "[compat.hermes] rate_limit");
  EXPECT_EQ(FindServerSetting("listen")->FileKeyText(), "[server] listen");
}

// docs/configuration.md's table lists every setting with its flag, variable and key.
TEST_F(ServerSettingsTest, TheDocsTableListsEverySetting) {
  std::ifstream in(std::filesystem::path(COUNTERSIGN_SOURCE_DIR) / "docs" / "configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md";
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::string> rows;  // flag -> its table row
  std::string line;
  while (std::getline(text, line)) {
    if (!line.starts_with("| ")) continue;
    const auto open = line.find("`--");
    if (open == std::string::npos) continue;
    const auto end = line.find_first_of(" `", open + 1);
    rows[line.substr(open + 1, end - open - 1)] = line;
  }
  for (const ServerSetting& s : ServerSettings()) {
    SCOPED_TRACE(s.name);
    ASSERT_EQ(rows.count(s.flag), 1u) << "no row for " << s.flag;
    const std::string& row = rows[s.flag];
    EXPECT_NE(row.find("`" + s.env + "`"), std::string::npos) << row;
    if (!s.file_key.empty()) {
      const std::string key = s.file_key.substr(s.file_key.rfind('.') + 1);
      EXPECT_NE(row.find(key), std::string::npos) << row;
    }
    if (!s.default_text.empty()) {
      EXPECT_NE(row.find("`" + s.default_text + "`"), std::string::npos) << row;
    }
  }
}

}  // namespace
}  // namespace countersign
