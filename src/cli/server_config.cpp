#include "cli/server_config.hpp"

#include <filesystem>

#include <toml++/toml.h>
#include <boost/asio/ip/address.hpp>

#include "cli/compat_config.hpp"
#include "cli/policy_config.hpp"
#include "core/public_url.hpp"

namespace countersign {
namespace {

Status ParseListen(const std::string& text, const std::string& origin, ServerConfig& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Error::Invalid(origin + ": listen must be HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535 || host.empty()) {
    return Error::Invalid(origin + ": listen must be HOST:PORT with a port 0-65535, got '" + text +
                          "'");
  }
  out.listen_host = host;
  out.listen_port = static_cast<uint16_t>(port);
  return Ok();
}

Status ParseStore(const std::string& text, const std::string& origin, ServerConfig& out) {
  if (text.rfind("postgres://", 0) == 0 || text.rfind("postgresql://", 0) == 0) {
    return Error::Invalid(origin +
                          ": PostgreSQL stores are not supported by this build yet; use "
                          "sqlite:PATH");
  }
  std::string path = text.rfind("sqlite:", 0) == 0 ? text.substr(7) : text;
  if (path.empty()) return Error::Invalid(origin + ": store must be sqlite:PATH");
  out.store_path = path;
  return Ok();
}

Status ParseAuth(const std::string& text, const std::string& origin, ServerConfig& out) {
  if (text == "on" || text == "true") {
    out.auth = true;
  } else if (text == "off" || text == "false") {
    out.auth = false;
  } else {
    return Error::Invalid(origin + ": auth must be on or off, got '" + text + "'");
  }
  return Ok();
}

Status ParseLogLevel(const std::string& text, const std::string& origin, ServerConfig& out) {
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    if (text == level) {
      out.log_level = text;
      return Ok();
    }
  }
  return Error::Invalid(origin + ": log_level must be trace, debug, info, warn or error");
}

Status ParsePublicUrl(const std::string& text, const std::string& origin, ServerConfig& out) {
  auto url = PublicUrl::Parse(text, origin);
  if (!url.ok()) return std::move(url).error();
  out.public_url = url->text();
  return Ok();
}

std::string Where(const std::string& file, const toml::node& node, const std::string& key) {
  return file + ":" + std::to_string(node.source().begin.line) + ": server." + key;
}

// toml++ reports a bad file by throwing; the exception stops here.
Result<toml::table> ParseFile(const std::string& file) {
  try {
    return toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return Error::Invalid(file + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
  } catch (const std::exception& e) {
    return Error::Invalid(file + ":0: " + e.what());
  }
}

// Checks the top-level keys and applies the [server] table.
Status ApplyServerTable(const std::string& file, const toml::table& root, ServerConfig& out) {
  for (const auto& [key, node] : root) {
    const std::string_view name = key.str();
    if (name != "server" && name != "groups" && name != "policy" && name != "risk" &&
        name != "limits" && name != "channel" && name != "webhook" && name != "identities" &&
        name != "outbox" && name != "compat") {
      return Error::Invalid(
          file + ":" + std::to_string(node.source().begin.line) + ": unknown table or key '" +
          std::string(name) +
          "' (this version reads [server], [groups], [[policy]], [risk], "
          "[limits], [[channel]], [[webhook]], [identities], [outbox] and [compat.*])");
    }
  }
  const toml::node* server_node = root.get("server");
  if (!server_node) return Ok();
  const toml::table* server = server_node->as_table();
  if (!server) {
    return Error::Invalid(file + ":" + std::to_string(server_node->source().begin.line) +
                          ": server must be a table");
  }
  for (const auto& [key_node, node] : *server) {
    const std::string key(key_node.str());
    const std::string where = Where(file, node, key);
    auto text = [&]() -> Result<std::string> {
      if (auto s = node.value<std::string>()) return *s;
      return Error::Invalid(where + " must be a string");
    };
    auto integer = [&]() -> Result<int64_t> {
      if (auto i = node.value<int64_t>()) return *i;
      return Error::Invalid(where + " must be an integer");
    };
    if (key == "listen") {
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      CS_RETURN_IF_ERROR(ParseListen(v.value(), where, out));
    } else if (key == "store") {
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      CS_RETURN_IF_ERROR(ParseStore(v.value(), where, out));
    } else if (key == "auth") {
      if (auto b = node.value<bool>(); b && node.is_boolean()) {
        out.auth = *b;
        continue;
      }
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      CS_RETURN_IF_ERROR(ParseAuth(v.value(), where, out));
    } else if (key == "data_dir") {
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      out.data_dir = v.value();
    } else if (key == "tls_cert" || key == "tls_key") {
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      if (v.value().empty()) return Error::Invalid(where + " must not be empty");
      (key == "tls_cert" ? out.tls_cert : out.tls_key) = v.value();
    } else if (key == "public_url") {
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      CS_RETURN_IF_ERROR(ParsePublicUrl(v.value(), where, out));
    } else if (key == "log_level") {
      auto v = text();
      if (!v.ok()) return std::move(v).error();
      CS_RETURN_IF_ERROR(ParseLogLevel(v.value(), where, out));
    } else if (key == "threads") {
      auto v = integer();
      if (!v.ok()) return std::move(v).error();
      if (v.value() < 0 || v.value() > 256) return Error::Invalid(where + " must be 0-256");
      out.threads = static_cast<int>(v.value());
    } else if (key == "stream_queue") {
      auto v = integer();
      if (!v.ok()) return std::move(v).error();
      if (v.value() < 1 || v.value() > 1000000) return Error::Invalid(where + " must be 1-1000000");
      out.stream_queue = static_cast<int>(v.value());
    } else if (key == "stream_heartbeat_seconds") {
      auto v = integer();
      if (!v.ok()) return std::move(v).error();
      if (v.value() < 1 || v.value() > 3600) return Error::Invalid(where + " must be 1-3600");
      out.stream_heartbeat = std::chrono::seconds(v.value());
    } else if (key == "default_timeout_seconds") {
      auto v = integer();
      if (!v.ok()) return std::move(v).error();
      if (v.value() < 1 || v.value() > 30 * 24 * 3600) {
        return Error::Invalid(where + " must be between 1 and 2592000");
      }
      out.default_timeout = std::chrono::seconds(v.value());
    } else {
      return Error::Invalid(where + ": unknown key");
    }
  }
  return Ok();
}

Status ApplyFile(const std::string& file, ServerConfig& out) {
  auto root = ParseFile(file);
  if (!root.ok()) return std::move(root).error();
  CS_RETURN_IF_ERROR(ApplyServerTable(file, *root, out));
  auto loaded = ReadPolicyTables(*root, file, out.default_timeout);
  if (!loaded.ok()) return std::move(loaded).error();
  out.policies = std::move(loaded->policies);
  out.limits = loaded->limits;
  auto notify = ReadNotifyTables(*root, file);
  if (!notify.ok()) return std::move(notify).error();
  out.notify = std::move(notify).value();
  auto compat = ReadCompatTables(*root, file);
  if (!compat.ok()) return std::move(compat).error();
  out.compat = std::move(compat).value();
  return Ok();
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

Result<ServerConfig> LoadServerConfig(const ServeOptions& options) {
  ServerConfig config;
  if (options.config) CS_RETURN_IF_ERROR(ApplyFile(*options.config, config));
  if (options.listen) CS_RETURN_IF_ERROR(ParseListen(*options.listen, "--listen", config));
  if (options.store) CS_RETURN_IF_ERROR(ParseStore(*options.store, "--store", config));
  if (options.auth) CS_RETURN_IF_ERROR(ParseAuth(*options.auth, "--auth", config));
  if (options.log_level) {
    CS_RETURN_IF_ERROR(ParseLogLevel(*options.log_level, "--log-level", config));
  }
  if (options.data_dir) config.data_dir = *options.data_dir;
  if (options.port_file) config.port_file = *options.port_file;
  if (options.threads) {
    if (*options.threads < 0 || *options.threads > 256) {
      return Error::Invalid("--threads must be 0-256");
    }
    config.threads = *options.threads;
  }
  if (options.stream_queue) {
    if (*options.stream_queue < 1 || *options.stream_queue > 1000000) {
      return Error::Invalid("--stream-queue must be 1-1000000");
    }
    config.stream_queue = *options.stream_queue;
  }
  if (options.stream_heartbeat) {
    if (*options.stream_heartbeat < 1 || *options.stream_heartbeat > 3600) {
      return Error::Invalid("--stream-heartbeat must be 1-3600");
    }
    config.stream_heartbeat = std::chrono::seconds(*options.stream_heartbeat);
  }
  if (options.hermes_rate_limit) {
    if (*options.hermes_rate_limit < 0 || *options.hermes_rate_limit > 1000000) {
      return Error::Invalid("--hermes-rate-limit must be 0-1000000");
    }
    config.compat.hermes.rate_limit = *options.hermes_rate_limit;
  }
  if (options.tls_cert) config.tls_cert = *options.tls_cert;
  if (options.tls_key) config.tls_key = *options.tls_key;
  if (options.public_url) {
    CS_RETURN_IF_ERROR(ParsePublicUrl(*options.public_url, "--public-url", config));
  }
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
    auto parent = std::filesystem::path(config.store_path).parent_path();
    config.data_dir = parent.empty() ? "." : parent.string();
  }
  if (!config.auth && !IsLoopbackHost(config.listen_host)) {
    return Error::Invalid(
        "--auth off is allowed only when listening on loopback (127.0.0.1 or "
        "::1), not on " +
        config.listen_host);
  }
  return config;
}

Result<LoadedConfigFile> LoadConfigFile(const std::string& path) {
  auto root = ParseFile(path);
  if (!root.ok()) return std::move(root).error();
  ServerConfig server;  // checked, not returned: [server] changes need a restart
  CS_RETURN_IF_ERROR(ApplyServerTable(path, *root, server));
  auto notify = ReadNotifyTables(*root, path);  // checked too: they change on restart only
  if (!notify.ok()) return std::move(notify).error();
  auto compat = ReadCompatTables(*root, path);
  if (!compat.ok()) return std::move(compat).error();
  return ReadPolicyTables(*root, path, server.default_timeout);
}

Result<std::shared_ptr<const PolicySet>> LoadPolicyFile(const std::string& path) {
  auto loaded = LoadConfigFile(path);
  if (!loaded.ok()) return std::move(loaded).error();
  return std::move(loaded->policies);
}

}  // namespace countersign
