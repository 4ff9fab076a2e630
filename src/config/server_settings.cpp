#include "config/server_settings.hpp"

#include <algorithm>
#include <cctype>

#include "config/server_config.hpp"
#include "core/public_url.hpp"

namespace countersign {
namespace {

using std::chrono::milliseconds;

// What a row's `apply` does with a value that passed its kind's checks.

Status ApplyListen(const SettingValue& value, const std::string& where, ServerConfig& out) {
  const std::string& text = value.text;
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Error::Invalid(where + ": listen must be HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = text.substr(colon + 1);
  const bool digits = std::all_of(port_text.begin(), port_text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  const int port = digits && port_text.size() <= 5 ? std::stoi(port_text) : -1;
  if (port < 0 || port > 65535 || host.empty()) {
    return Error::Invalid(where + ": listen must be HOST:PORT with a port 0-65535, got '" + text +
                          "'");
  }
  out.listen_host = host;
  out.listen_port = static_cast<uint16_t>(port);
  return Ok();
}

std::string ShowListen(const ServerConfig& config) {
  const bool ipv6 = config.listen_host.find(':') != std::string::npos;
  return (ipv6 ? "[" + config.listen_host + "]" : config.listen_host) + ":" +
         std::to_string(config.listen_port);
}

Status ApplyStore(const SettingValue& value, const std::string& where, ServerConfig& out) {
  const std::string& text = value.text;
  if (text.starts_with("postgres://") || text.starts_with("postgresql://")) {
    out.store_url = text;
    out.store_path.clear();
    return Ok();
  }
  std::string path = text.starts_with("sqlite:") ? text.substr(7) : text;
  if (path.empty()) {
    return Error::Invalid(where + ": store must be sqlite:PATH or postgres://USER@HOST/DATABASE");
  }
  out.store_path = std::move(path);
  out.store_url.clear();
  return Ok();
}

std::string ShowStore(const ServerConfig& config) {
  return config.store_url.empty() ? "sqlite:" + config.store_path
                                  : RedactedStoreUrl(config.store_url);
}

Status ApplyAuth(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.auth = value.on;
  return Ok();
}

std::string ShowAuth(const ServerConfig& config) { return config.auth ? "on" : "off"; }

Status ApplyIntegrityCheck(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.integrity_check = value.on;
  return Ok();
}

std::string ShowIntegrityCheck(const ServerConfig& config) {
  return config.integrity_check ? "on" : "off";
}

Status ApplyAcceptAuditGap(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.accept_audit_gap = value.on;
  return Ok();
}

std::string ShowAcceptAuditGap(const ServerConfig& config) {
  return config.accept_audit_gap ? "on" : "off";
}

Status ApplyMetricsAuth(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.metrics_auth = value.on;
  return Ok();
}

std::string ShowMetricsAuth(const ServerConfig& config) {
  return config.metrics_auth ? "on" : "off";
}

Status ApplyAccessLog(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.access_log = value.on;
  return Ok();
}

std::string ShowAccessLog(const ServerConfig& config) { return config.access_log ? "on" : "off"; }

Status ApplyPublicUrl(const SettingValue& value, const std::string& where, ServerConfig& out) {
  auto url = PublicUrl::Parse(value.text, where);
  if (!url.ok()) return std::move(url).error();
  out.public_url = url->text();
  return Ok();
}

Status ApplyHermesRateLimit(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.compat.hermes.rate_limit = static_cast<int>(value.integer);
  return Ok();
}

std::string ShowHermesRateLimit(const ServerConfig& config) {
  return std::to_string(config.compat.hermes.rate_limit);
}

template <std::string ServerConfig::*kField>
Status ApplyText(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.*kField = value.text;
  return Ok();
}

// A file name given at all must name a file.
template <std::string ServerConfig::*kField>
Status ApplyFileName(const SettingValue& value, const std::string& where, ServerConfig& out) {
  if (value.text.empty()) return Error::Invalid(where + " must not be empty");
  out.*kField = value.text;
  return Ok();
}

template <std::string ServerConfig::*kField>
std::string ShowText(const ServerConfig& config) {
  return config.*kField;
}

template <int ServerConfig::*kField>
Status ApplyInteger(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.*kField = static_cast<int>(value.integer);
  return Ok();
}

template <int ServerConfig::*kField>
std::string ShowInteger(const ServerConfig& config) {
  return std::to_string(config.*kField);
}

template <std::chrono::seconds ServerConfig::*kField>
Status ApplySeconds(const SettingValue& value, const std::string&, ServerConfig& out) {
  out.*kField = std::chrono::duration_cast<std::chrono::seconds>(value.duration);
  return Ok();
}

template <std::chrono::seconds ServerConfig::*kField>
std::string ShowSeconds(const ServerConfig& config) {
  return DurationText(config.*kField);
}

constexpr DurationRange kSeconds(int64_t min, int64_t max) {
  return {std::chrono::seconds(min), std::chrono::seconds(max), true};
}

// The table. The flag and variable are derived from `name`; `file_key` is spelled out
// because two keys say their unit ("..._seconds") and one lives in [compat.hermes].
std::vector<ServerSetting> Declare() {
  using K = SettingKind;
  return {
      {.name = "listen",
       .file_key = "server.listen",
       .kind = K::kText,
       .value_name = "HOST:PORT",
       .default_text = "127.0.0.1:7400",
       .help = "address to listen on",
       .apply = ApplyListen,
       .show = ShowListen},
      {.name = "store",
       .file_key = "server.store",
       .kind = K::kText,
       .value_name = "sqlite:PATH|postgres://URL",
       .default_text = "sqlite:./data/countersign.db",
       .help = "where requests are kept: a SQLite file, or PostgreSQL for several replicas",
       .apply = ApplyStore,
       .show = ShowStore},
      {.name = "auth",
       .file_key = "server.auth",
       .kind = K::kSwitch,
       .value_name = "on|off",
       .default_text = "on",
       .help = "require API tokens (off is refused unless listening on loopback)",
       .choices = {"on", "off"},
       .apply = ApplyAuth,
       .show = ShowAuth},
      {.name = "integrity_check",
       .file_key = "server.integrity_check",
       .kind = K::kSwitch,
       .value_name = "on|off",
       .default_text = "on",
       .help = "check the database (PRAGMA quick_check) before serving; off skips it for a "
               "store too large to check at every start",
       .choices = {"on", "off"},
       .apply = ApplyIntegrityCheck,
       .show = ShowIntegrityCheck},
      {.name = "accept_audit_gap",
       .file_key = "",
       .kind = K::kSwitch,
       .value_name = "on|off",
       .default_text = "off",
       .help = "on: start even though the database lost acknowledged writes (its audit log ends "
               "before the event recorded in the .audit-head file beside it); for recovery, "
               "once, after reading docs/operations.md",
       .choices = {"on", "off"},
       .apply = ApplyAcceptAuditGap,
       .show = ShowAcceptAuditGap},
      {.name = "metrics_auth",
       .file_key = "server.metrics_auth",
       .kind = K::kSwitch,
       .value_name = "on|off",
       .default_text = "off",
       .help = "on: GET /metrics needs the token of an admin of the default tenant (it counts "
               "every tenant together)",
       .choices = {"on", "off"},
       .apply = ApplyMetricsAuth,
       .show = ShowMetricsAuth},
      {.name = "config",
       .file_key = "",
       .kind = K::kText,
       .value_name = "FILE",
       .help = "TOML file with a [server] table (see docs/configuration.md)",
       .apply = ApplyText<&ServerConfig::config_file>,
       .show = ShowText<&ServerConfig::config_file>},
      {.name = "data_dir",
       .file_key = "server.data_dir",
       .kind = K::kText,
       .value_name = "DIR",
       .help = "where the admin token and keys live (default: the database's directory)",
       .apply = ApplyText<&ServerConfig::data_dir>,
       .show = ShowText<&ServerConfig::data_dir>},
      {.name = "port_file",
       .file_key = "server.port_file",
       .kind = K::kText,
       .value_name = "FILE",
       .help = "write the bound port here once listening",
       .apply = ApplyText<&ServerConfig::port_file>,
       .show = ShowText<&ServerConfig::port_file>},
      {.name = "log_level",
       .file_key = "server.log_level",
       .kind = K::kChoice,
       .value_name = "LEVEL",
       .default_text = "info",
       .help = "trace, debug, info, warn or error",
       .choices = {"trace", "debug", "info", "warn", "error"},
       .apply = ApplyText<&ServerConfig::log_level>,
       .show = ShowText<&ServerConfig::log_level>},
      {.name = "log_format",
       .file_key = "server.log_format",
       .kind = K::kChoice,
       .value_name = "FORMAT",
       .default_text = "text",
       .help = "text, or json: one JSON object a line with ts, level, logger and msg",
       .choices = {"text", "json"},
       .apply = ApplyText<&ServerConfig::log_format>,
       .show = ShowText<&ServerConfig::log_format>},
      {.name = "access_log",
       .file_key = "server.access_log",
       .kind = K::kSwitch,
       .value_name = "on|off",
       .default_text = "off",
       .help = "on: log one line per HTTP request (method, path, status, principal, duration) "
               "on the \"access\" logger",
       .choices = {"on", "off"},
       .apply = ApplyAccessLog,
       .show = ShowAccessLog},
      {.name = "threads",
       .file_key = "server.threads",
       .kind = K::kInteger,
       .value_name = "N",
       .default_text = "0",
       .help = "network threads; 0: one per core",
       .min = 0,
       .max = 256,
       .apply = ApplyInteger<&ServerConfig::threads>,
       .show = ShowInteger<&ServerConfig::threads>},
      {.name = "tls_cert",
       .file_key = "server.tls_cert",
       .kind = K::kText,
       .value_name = "FILE",
       .help = "PEM certificate chain: serve HTTPS instead of HTTP (needs --tls-key)",
       .apply = ApplyFileName<&ServerConfig::tls_cert>,
       .show = ShowText<&ServerConfig::tls_cert>},
      {.name = "tls_key",
       .file_key = "server.tls_key",
       .kind = K::kText,
       .value_name = "FILE",
       .help = "unencrypted PEM private key of --tls-cert (needs --tls-cert)",
       .apply = ApplyFileName<&ServerConfig::tls_key>,
       .show = ShowText<&ServerConfig::tls_key>},
      {.name = "default_timeout",
       .file_key = "server.default_timeout_seconds",
       .kind = K::kDuration,
       .value_name = "DURATION",
       .default_text = "5m",
       .help = "deadline of a request that gives no timeout_seconds, 1s to 30d",
       .duration = kSeconds(1, 30 * 86400),
       .apply = ApplySeconds<&ServerConfig::default_timeout>,
       .show = ShowSeconds<&ServerConfig::default_timeout>},
      {.name = "stream_queue",
       .file_key = "server.stream_queue",
       .kind = K::kInteger,
       .value_name = "N",
       .default_text = "1000",
       .help = "events a live stream (/v1/events, /v1/ws) may fall behind before it is closed",
       .min = 1,
       .max = 1'000'000,
       .apply = ApplyInteger<&ServerConfig::stream_queue>,
       .show = ShowInteger<&ServerConfig::stream_queue>},
      {.name = "stream_heartbeat",
       .file_key = "server.stream_heartbeat_seconds",
       .kind = K::kDuration,
       .value_name = "DURATION",
       .default_text = "15s",
       .help = "time between keep-alives on an idle live stream, 1s to 1h",
       .duration = kSeconds(1, 3600),
       .apply = ApplySeconds<&ServerConfig::stream_heartbeat>,
       .show = ShowSeconds<&ServerConfig::stream_heartbeat>},
      {.name = "mcp_progress",
       .file_key = "server.mcp_progress_seconds",
       .kind = K::kDuration,
       .value_name = "DURATION",
       .default_text = "5s",
       .help = "time between progress reports of a waiting MCP tool call on /mcp, 1s to 60s",
       .duration = kSeconds(1, 60),
       .apply = ApplySeconds<&ServerConfig::mcp_progress>,
       .show = ShowSeconds<&ServerConfig::mcp_progress>},
      {.name = "audit_checkpoint_every",
       .file_key = "server.audit_checkpoint_every",
       .kind = K::kInteger,
       .value_name = "N",
       .default_text = "1000",
       .help = "sign the audit chain (a checkpoint event, with the receipt key) after this many "
               "unsigned events; 0: only by time",
       .min = 0,
       .max = 1000000000,
       .apply = ApplyInteger<&ServerConfig::audit_checkpoint_every>,
       .show = ShowInteger<&ServerConfig::audit_checkpoint_every>},
      {.name = "audit_checkpoint_interval",
       .file_key = "server.audit_checkpoint_interval",
       .kind = K::kDuration,
       .value_name = "DURATION",
       .default_text = "10m",
       .help = "and at least this often while any event is unsigned, 0s to 24h; 0s: only by "
               "count",
       .duration = kSeconds(0, 24 * 3600),
       .apply = ApplySeconds<&ServerConfig::audit_checkpoint_interval>,
       .show = ShowSeconds<&ServerConfig::audit_checkpoint_interval>},
      {.name = "retention_resolved_after",
       .file_key = "retention.resolved_after",
       .kind = K::kDuration,
       .value_name = "DURATION",
       .default_text = "0s",
       .help = "remove requests resolved longer ago than this (their audit events stay, and a "
               "retention.pruned event records each removal), e.g. 400d; 0s: keep them for ever",
       .duration = kSeconds(0, int64_t{36500} * 86400),
       .apply = ApplySeconds<&ServerConfig::retention_resolved_after>,
       .show = ShowSeconds<&ServerConfig::retention_resolved_after>},
      {.name = "retention_interval",
       .file_key = "retention.interval",
       .kind = K::kDuration,
       .value_name = "DURATION",
       .default_text = "1h",
       .help = "how often resolved requests past retention_resolved_after are looked for, 1s "
               "to 1d (and once at start-up)",
       .duration = kSeconds(1, 86400),
       .apply = ApplySeconds<&ServerConfig::retention_interval>,
       .show = ShowSeconds<&ServerConfig::retention_interval>},
      {.name = "public_url",
       .file_key = "server.public_url",
       .kind = K::kText,
       .value_name = "URL",
       .help = "where people reach this server, used in one-click links (default: "
               "http(s)://the bound listen address)",
       .apply = ApplyPublicUrl,
       .show = ShowText<&ServerConfig::public_url>},
      {.name = "hermes_rate_limit",
       .file_key = "compat.hermes.rate_limit",
       .kind = K::kInteger,
       .value_name = "N",
       .default_text = "10",
       .help = "Hermes adapter: submissions per action per hour, 0 for unlimited",
       .min = 0,
       .max = 1'000'000,
       .apply = ApplyHermesRateLimit,
       .show = ShowHermesRateLimit},
  };
}

}  // namespace

const std::vector<ServerSetting>& ServerSettings() {
  static const std::vector<ServerSetting> settings = [] {
    std::vector<ServerSetting> rows = Declare();
    for (ServerSetting& row : rows) {
      row.flag = "--" + row.name;
      std::replace(row.flag.begin(), row.flag.end(), '_', '-');
      row.env = "COUNTERSIGN_" + row.name;
      std::transform(row.env.begin(), row.env.end(), row.env.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    }
    return rows;
  }();
  return settings;
}

const ServerSetting* FindServerSetting(std::string_view name) {
  for (const ServerSetting& row : ServerSettings()) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

}  // namespace countersign
