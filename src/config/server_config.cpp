#include "config/server_config.hpp"

#include <filesystem>

#include <toml++/toml.h>
#include <boost/asio/ip/address.hpp>

#include "config/compat_config.hpp"
#include "config/conversation_config.hpp"
#include "config/oidc_config.hpp"
#include "config/policy_config.hpp"
#include "config/server_settings.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

constexpr std::string_view kTopLevelTables[] = {
    "server", "groups",   "policy", "risk", "limits",        "channel", "webhook",  "identities",
    "outbox", "outbound", "compat", "llm",  "conversations", "ui",      "retention"};

// The tables whose keys are rows of the settings table (server_settings.cpp).
constexpr std::string_view kSettingTables[] = {"server", "retention"};

// Every setting's default, through the same checks as a flag's value.
Status ApplyDefaults(ServerConfig& out) {
  for (const ServerSetting& setting : ServerSettings()) {
    if (setting.default_text.empty()) continue;
    CS_RETURN_IF_ERROR(setting.ApplyText(setting.default_text, "default " + setting.name, out));
  }
  return Ok();
}

// Checks the top-level keys and applies the [server] and [retention] tables.
Status ApplyServerTable(const std::string& file, const toml::table& root, ServerConfig& out) {
  for (const auto& [key, node] : root) {
    const std::string_view name = key.str();
    if (std::find(std::begin(kTopLevelTables), std::end(kTopLevelTables), name) ==
        std::end(kTopLevelTables)) {
      return Error::Invalid(
          WhereLine(file, node) + ": unknown table or key '" + std::string(name) +
          "' (this version reads [server], [groups], [[policy]], [risk], "
          "[limits], [[channel]], [[webhook]], [identities], [outbox], [outbound], [compat.*], "
          "[llm], [conversations], [ui.oidc] and [retention])");
    }
  }
  for (const std::string_view table_name : kSettingTables) {
    const toml::node* table_node = root.get(table_name);
    if (!table_node) continue;
    const toml::table* table = table_node->as_table();
    if (!table) {
      return Error::Invalid(Where(file, *table_node, std::string(table_name)) + " must be a table");
    }
    for (const auto& [key_node, node] : *table) {
      const std::string key = std::string(table_name) + "." + std::string(key_node.str());
      const std::string where = Where(file, node, key);
      const auto& settings = ServerSettings();
      const auto setting = std::find_if(settings.begin(), settings.end(),
                                        [&](const ServerSetting& s) { return s.file_key == key; });
      if (setting == settings.end()) return Error::Invalid(where + ": unknown key");
      auto value = setting->ParseNode(node, where);
      if (!value.ok()) return std::move(value).error();
      CS_RETURN_IF_ERROR(setting->apply(value.value(), where, out));
    }
  }
  return Ok();
}

// The settings given as flags or variables, over what the file said.
Status ApplyGiven(const ServeOptions& options, ServerConfig& out) {
  for (const auto& [name, text] : options.given) {
    const ServerSetting* setting = FindServerSetting(name);
    if (!setting) return Error::Internal("no setting is named '" + name + "'");
    CS_RETURN_IF_ERROR(setting->ApplyText(text, setting->flag, out));
  }
  return Ok();
}

// The checks that involve more than one setting, and what follows from the others.
Status Complete(ServerConfig& config) {
  if (config.tls_cert.empty() && !config.tls_key.empty()) {
    return Error::Invalid(
        "tls_key is set but tls_cert is not (--tls-cert, COUNTERSIGN_TLS_CERT or [server] "
        "tls_cert): HTTPS needs both");
  }
  if (!config.tls_cert.empty() && config.tls_key.empty()) {
    return Error::Invalid(
        "tls_cert is set but tls_key is not (--tls-key, COUNTERSIGN_TLS_KEY or [server] "
        "tls_key): HTTPS needs both");
  }
  if (config.data_dir.empty()) {
    // Beside a SQLite file; for PostgreSQL, ./data (every replica needs the same keys there).
    auto parent = std::filesystem::path(config.store_path).parent_path();
    config.data_dir = !config.store_url.empty() ? "data" : parent.empty() ? "." : parent.string();
  }
  if (!config.auth && !IsLoopbackHost(config.listen_host)) {
    return Error::Invalid(
        "--auth off is allowed only when listening on loopback (127.0.0.1 or "
        "::1), not on " +
        config.listen_host);
  }
  return Ok();
}

// Every table of a parsed config file checked; the swappable parts returned.
Result<LoadedConfigFile> ReadConfigTables(const toml::table& root, const std::string& file) {
  ServerConfig server;  // checked, not returned: [server] changes need a restart
  CS_RETURN_IF_ERROR(ApplyDefaults(server));
  CS_RETURN_IF_ERROR(ApplyServerTable(file, root, server));
  auto notify = ReadNotifyTables(root, file);  // checked too: they change on restart only
  if (!notify.ok()) return std::move(notify).error();
  auto compat = ReadCompatTables(root, file);
  if (!compat.ok()) return std::move(compat).error();
  auto conversations = ReadConversationTables(root, file);
  if (!conversations.ok()) return std::move(conversations).error();
  auto oidc = ReadOidcTable(root, file);
  if (!oidc.ok()) return std::move(oidc).error();
  return ReadPolicyTables(root, file, server.default_timeout, notify->channels);
}

}  // namespace

void ServeOptions::Give(std::string_view name, const std::optional<std::string>& value) {
  if (value) given.insert_or_assign(std::string(name), *value);
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// Defaults, then the file's [server] and adapter tables, then the flags and variables; the
// policies last, since a policy without a timeout takes the default_timeout in force.
Result<ServerConfig> LoadServerConfig(const ServeOptions& options) {
  ServerConfig config;
  CS_RETURN_IF_ERROR(ApplyDefaults(config));
  const auto file = options.given.find("config");
  std::optional<toml::table> root;
  if (file != options.given.end()) {
    auto parsed = ParseTomlFile(file->second);
    if (!parsed.ok()) return std::move(parsed).error();
    root = std::move(parsed).value();
    CS_RETURN_IF_ERROR(ApplyServerTable(file->second, *root, config));
    auto notify = ReadNotifyTables(*root, file->second);
    if (!notify.ok()) return std::move(notify).error();
    config.notify = std::move(notify).value();
    auto compat = ReadCompatTables(*root, file->second, config.compat);
    if (!compat.ok()) return std::move(compat).error();
    config.compat = std::move(compat).value();
    auto conversations = ReadConversationTables(*root, file->second);
    if (!conversations.ok()) return std::move(conversations).error();
    config.conversations = std::move(conversations).value();
    auto oidc = ReadOidcTable(*root, file->second);
    if (!oidc.ok()) return std::move(oidc).error();
    config.oidc = std::move(oidc).value();
  }
  CS_RETURN_IF_ERROR(ApplyGiven(options, config));
  if (root) {
    auto loaded =
        ReadPolicyTables(*root, file->second, config.default_timeout, config.notify.channels);
    if (!loaded.ok()) return std::move(loaded).error();
    config.policies = std::move(loaded->policies);
    config.limits = loaded->limits;
  }
  CS_RETURN_IF_ERROR(Complete(config));
  return config;
}

Result<LoadedConfigFile> LoadConfigFile(const std::string& path) {
  auto root = ParseTomlFile(path);
  if (!root.ok()) return std::move(root).error();
  return ReadConfigTables(*root, path);
}

Result<LoadedConfigFile> LoadConfigText(std::string_view text, const std::string& name) {
  auto root = ParseTomlText(text, name);
  if (!root.ok()) return std::move(root).error();
  return ReadConfigTables(*root, name);
}

Result<std::shared_ptr<const PolicySet>> LoadPolicyFile(const std::string& path) {
  auto loaded = LoadConfigFile(path);
  if (!loaded.ok()) return std::move(loaded).error();
  return std::move(loaded->policies);
}

std::string RedactedStoreUrl(std::string_view url) {
  std::string out(url);
  const size_t scheme = out.find("://");
  const size_t at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  if (size_t p = out.find("password="); p != std::string::npos) {
    const size_t end = out.find('&', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
  }
  return out;
}

}  // namespace countersign
