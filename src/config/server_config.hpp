// ServerConfig: the settings `countersign serve` runs with, and where each came from.
//
// Precedence, for every setting of the table in server_settings.hpp: the command-line flag,
// then its COUNTERSIGN_* variable (both arrive as ServeOptions; the command-line parser picks
// the flag over the variable), then the config file, then the table's default. Loading
// validates every value; an error names the key (and, for the file, its line) and start-up
// stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/oidc_settings.hpp"
#include "compat/compat_options.hpp"
#include "config/conversation_config.hpp"
#include "config/notify_config.hpp"
#include "core/result.hpp"
#include "policy/policy_set.hpp"

namespace countersign {

// What `countersign serve` (and the commands that read its config) was given on its command
// line or by COUNTERSIGN_* variables: setting name (server_settings.hpp) -> value as typed.
// Each one given wins over the config file; "config" names the file.
struct ServeOptions {
  std::map<std::string, std::string, std::less<>> given;

  // Gives `name` the value `value` holds; nothing when it holds none.
  void Give(std::string_view name, const std::optional<std::string>& value);
};

// [limits]: "N/WINDOW" rates (a count of 0 means unlimited, the window is then 0 too), the
// pending requests one principal may hold, how long idempotency keys are kept, and caps on
// open connections (0: the total follows the file descriptor limit; per address, none). The
// defaults bound what one careless or hostile agent can pile up.
struct LimitsConfig {
  int per_principal = 600;
  std::chrono::seconds principal_window{60};
  int per_action = 0;
  std::chrono::seconds action_window{0};
  int max_pending_per_principal = 1000;
  std::chrono::seconds idempotency_ttl{24 * 3600};
  int max_connections = 0;
  int max_connections_per_ip = 0;
};

// The parts of a config file that a running server can swap on SIGHUP: [groups],
// [[policy]] and [risk] (as one PolicySet) and [limits]. `policies` is never null.
struct LoadedConfigFile {
  std::shared_ptr<const PolicySet> policies = std::make_shared<const PolicySet>();
  LimitsConfig limits;
};

// The settings of the table get their defaults there, not here; LoadServerConfig() applies
// them.
struct ServerConfig {
  std::string config_file;  // the file read; empty: none
  std::string listen_host;
  uint16_t listen_port = 0;
  std::string store_path;  // from "sqlite:PATH"; empty for a PostgreSQL store
  std::string store_url;   // from "postgres://..." or "postgresql://..."; empty for SQLite
  // The SQLite VFS to open it with; empty: SQLite's default. No flag sets it: it is how a
  // test opens the server's database through a fault-injecting VFS.
  std::string sqlite_vfs;
  // PRAGMA quick_check on the database before serving (off: skip it, for a huge store).
  bool integrity_check = true;
  // Start even when the database ends before the audit head file's record (a recovery).
  bool accept_audit_gap = false;
  // A signed audit checkpoint after this many unsigned events (0: never by count) and at least
  // this often while any is unsigned (0: never by time).
  int audit_checkpoint_every = 1000;
  std::chrono::seconds audit_checkpoint_interval{600};
  bool auth = false;
  // GET /metrics needs an operator's token (an admin of the default tenant).
  bool metrics_auth = false;
  std::string data_dir;  // when not given: the directory holding the database
  std::string port_file;
  std::string log_level;
  std::string log_format;   // "text" (spdlog's lines) or "json" (one JSON object a line)
  bool access_log = false;  // one line per HTTP request on the "access" logger
  // [retention]: resolved requests older than resolved_after are removed (0: kept for ever),
  // checked every retention_interval (engine/retention_pruner.hpp).
  std::chrono::seconds retention_resolved_after{0};
  std::chrono::seconds retention_interval{3600};
  int threads = 0;  // 0: one per core
  std::chrono::seconds default_timeout{0};
  size_t body_limit = 1 << 20;  // fixed in this build
  // PEM certificate chain and private key: both set serves HTTPS, neither plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  // Live event streams: the most events one stream may fall behind before it is closed, and
  // the heartbeat of an idle one.
  int stream_queue = 0;
  std::chrono::seconds stream_heartbeat{0};
  // POST /mcp: how often a waiting tool call reports progress.
  std::chrono::seconds mcp_progress{0};
  // Where people reach the server, for one-click links: validated and normalised by
  // PublicUrl::Parse. Empty: derived from the bound listen address once listening.
  std::string public_url;
  // From the file's [groups], [[policy]] and [risk]; the built-in default when it has none.
  // Never null.
  std::shared_ptr<const PolicySet> policies = std::make_shared<const PolicySet>();
  LimitsConfig limits;               // from [limits]; unlimited by default
  NotifyConfig notify;               // [[channel]], [[webhook]], [identities], [outbox]
  CompatOptions compat;              // [compat.hermes], [compat.molecule], [compat.aisoc]
  ConversationConfig conversations;  // [llm], [conversations]
  std::optional<OidcSettings> oidc;  // [ui.oidc]; nullopt: the inbox signs in with tokens only
};

// Every setting from `options`, the file it names and the defaults, checked one by one and
// then together (TLS needs both files; auth off only on loopback). Never throws.
Result<ServerConfig> LoadServerConfig(const ServeOptions& options);

// Reads and validates the whole file at `path` (its [server] table too, though only the
// reloadable parts are returned), for `policy test` and for a reload on SIGHUP: on an error
// the caller keeps what it has. The error names the file, the line and the key, e.g.
// "countersign.toml:12: policy[1].quorum must be 1-100". Never throws.
Result<LoadedConfigFile> LoadConfigFile(const std::string& path);
// The same checks of config text already in memory, errors naming `name` as the file (the
// fuzz target's way in: no file per input).
Result<LoadedConfigFile> LoadConfigText(std::string_view text, const std::string& name);
// LoadConfigFile(path), policies only.
Result<std::shared_ptr<const PolicySet>> LoadPolicyFile(const std::string& path);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

// A PostgreSQL URL fit for a log line: the password (user:PASSWORD@ or password=...) is
// replaced by "***".
std::string RedactedStoreUrl(std::string_view url);

}  // namespace countersign
