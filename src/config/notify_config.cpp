#include "config/notify_config.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "config/toml_values.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// Every entry of an array of tables `name`, or an error when it is something else.
Result<std::vector<const toml::table*>> Tables(const toml::table& root, const std::string& file,
                                               const char* name) {
  std::vector<const toml::table*> out;
  const toml::node* node = root.get(name);
  if (!node) return out;
  const toml::array* array = node->as_array();
  if (!array) {
    return Error::Invalid(Where(file, *node, name) + " must be an array of tables ([[" + name +
                          "]])");
  }
  for (const auto& item : *array) {
    const toml::table* t = item.as_table();
    if (!t) return Error::Invalid(WhereLine(file, item) + ": each " + name + " must be a table");
    out.push_back(t);
  }
  return out;
}

// A scalar as text (strings as they are; integers, floats and booleans written out).
std::optional<std::string> ScalarText(const toml::node& node) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  return std::nullopt;
}

// A [[channel]] value that is not a scalar: an array of strings becomes one comma-separated
// setting (to = ["a@x", "b@x"]), a table of scalars one "KEY.SUB" setting per entry
// (addresses = { alice = "a@x" } gives "addresses.alice"). Each item may be a secret.
Status ReadListOrTable(const toml::node& node, const std::string& key, const std::string& where,
                       ChannelSettings& settings) {
  if (node.is_array()) {
    auto items = ReadStringList(node, where, /*allow_empty_items=*/true);
    if (!items.ok()) return std::move(items).error();
    std::string joined;
    for (const auto& item : items.value()) {
      auto resolved = ResolveSecret(item, where);
      if (!resolved.ok()) return std::move(resolved).error();
      if (resolved.value().find(',') != std::string::npos) {
        return Error::Invalid(where + ": an item holds ',' ('" + item + "')");
      }
      if (!joined.empty()) joined += ',';
      joined += resolved.value();
    }
    settings.values[key] = std::move(joined);
    return Ok();
  }
  const toml::table* table = node.as_table();
  if (!table) return Error::Invalid(where + " must be a string");
  for (const auto& [sub_node, value] : *table) {
    const std::string sub = key + "." + std::string(sub_node.str());
    const std::string sub_where = where + "." + std::string(sub_node.str());
    auto text = ScalarText(value);
    if (!text) return Error::Invalid(sub_where + " must be a string");
    auto resolved = ResolveSecret(*text, sub_where);
    if (!resolved.ok()) return std::move(resolved).error();
    settings.values[sub] = std::move(resolved).value();
  }
  return Ok();
}

Status ReadChannels(const toml::table& root, const std::string& file, NotifyConfig& out,
                    std::set<std::string>& names) {
  auto tables = Tables(root, file, "channel");
  if (!tables.ok()) return std::move(tables).error();
  int index = 0;
  for (const toml::table* t : tables.value()) {
    const std::string prefix = Where(file, *t, "channel[" + std::to_string(index++) + "]");
    ChannelSettings settings;
    std::string tenant = "default";
    for (const auto& [key_node, node] : *t) {
      const std::string key(key_node.str());
      const std::string where =
          Where(file, node, "channel[" + std::to_string(index - 1) + "]." + key);
      settings.lines[key] = WhereLine(file, node);
      if (key != "name" && key != "type" && key != "tenant" && !node.is_value()) {
        CS_RETURN_IF_ERROR(ReadListOrTable(node, key, where, settings));
        continue;
      }
      auto text = ScalarText(node);
      if (!text) return Error::Invalid(where + " must be a string");
      if (key == "name") {
        settings.name = *text;
      } else if (key == "type") {
        settings.type = *text;
      } else if (key == "tenant") {
        tenant = *text;
      } else {
        auto resolved = ResolveSecret(*text, where);
        if (!resolved.ok()) return std::move(resolved).error();
        settings.values[key] = std::move(resolved).value();
      }
    }
    if (!IsValidName(settings.name)) {
      return Error::Invalid(prefix + ".name is required: 1-64 letters, digits, '_', '-' or '.'");
    }
    if (!names.insert(settings.name).second) {
      return Error::Invalid(prefix + ".name '" + settings.name + "' is used twice");
    }
    if (settings.type.empty()) return Error::Invalid(prefix + ".type is required");
    if (tenant.empty()) return Error::Invalid(prefix + ".tenant must not be empty");
    settings.source = WhereLine(file, *t);
    out.channels.push_back(std::move(settings));
    out.channel_tenants.push_back(tenant);
  }
  return Ok();
}

Status ReadWebhooks(const toml::table& root, const std::string& file, NotifyConfig& out) {
  auto tables = Tables(root, file, "webhook");
  if (!tables.ok()) return std::move(tables).error();
  std::set<std::string> names;
  int index = 0;
  for (const toml::table* t : tables.value()) {
    const std::string prefix = Where(file, *t, "webhook[" + std::to_string(index) + "]");
    WebhookSettings hook;
    for (const auto& [key_node, node] : *t) {
      const std::string key(key_node.str());
      const std::string where = Where(file, node, "webhook[" + std::to_string(index) + "]." + key);
      if (key == "events") {
        auto events = ReadStringList(node, where, /*allow_empty_items=*/true);
        if (!events.ok()) return std::move(events).error();
        hook.events = std::move(events).value();
        continue;
      }
      if (key == "links") {
        auto on = node.value<bool>();
        if (!on || !node.is_boolean()) return Error::Invalid(where + " must be true or false");
        hook.links = *on;
        continue;
      }
      auto text = node.value<std::string>();
      if (!text || !node.is_string()) return Error::Invalid(where + " must be a string");
      if (key == "name") {
        hook.name = *text;
      } else if (key == "tenant") {
        hook.tenant = *text;
      } else if (key == "url" || key == "secret") {
        auto resolved = ResolveSecret(*text, where);
        if (!resolved.ok()) return std::move(resolved).error();
        (key == "url" ? hook.url : hook.secret) = std::move(resolved).value();
      } else {
        return Error::Invalid(where + ": unknown key (name, url, secret, events, tenant, links)");
      }
    }
    ++index;
    if (!IsValidName(hook.name)) {
      return Error::Invalid(prefix + ".name is required: 1-64 letters, digits, '_', '-' or '.'");
    }
    if (!names.insert(hook.name).second) {
      return Error::Invalid(prefix + ".name '" + hook.name + "' is used twice");
    }
    if (!hook.url.starts_with("http://") && !hook.url.starts_with("https://")) {
      return Error::Invalid(prefix + ".url must be an http:// or https:// URL");
    }
    if (hook.secret.size() < 16) {
      return Error::Invalid(prefix + ".secret is required, at least 16 characters");
    }
    out.webhooks.push_back(std::move(hook));
  }
  return Ok();
}

Status ReadIdentities(const toml::table& root, const std::string& file, NotifyConfig& out) {
  const toml::node* node = root.get("identities");
  if (!node) return Ok();
  const toml::table* table = node->as_table();
  if (!table) return Error::Invalid(Where(file, *node, "identities") + " must be a table");
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    const std::string where = Where(file, value, "identities.\"" + key + "\"");
    const size_t colon = key.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == key.size()) {
      return Error::Invalid(where + ": a chat identity is PLATFORM:USER_ID, e.g. slack:U024BE7LH");
    }
    auto principal = value.value<std::string>();
    if (!principal || !value.is_string() || principal->empty()) {
      return Error::Invalid(where + " must name a principal");
    }
    out.identities[key] = *principal;
  }
  return Ok();
}

Status ReadOutbox(const toml::table& root, const std::string& file, NotifyConfig& out) {
  const toml::node* node = root.get("outbox");
  if (!node) return Ok();
  const toml::table* table = node->as_table();
  if (!table) return Error::Invalid(Where(file, *node, "outbox") + " must be a table");
  OutboxSettings& o = out.outbox;
  for (const auto& [key_node, entry] : *table) {
    // A named reference, not the binding itself: Clang before 16 cannot capture a binding.
    const toml::node& value = entry;
    const std::string key(key_node.str());
    const std::string where = Where(file, value, "outbox." + key);
    auto integer = [&](int lo, int hi, int& into) -> Status {
      auto read = ReadIntegerBetween(value, where, lo, hi);
      if (!read.ok()) return std::move(read).error();
      into = static_cast<int>(read.value());
      return Ok();
    };
    auto duration = [&](std::chrono::milliseconds lo, std::chrono::milliseconds hi,
                        std::chrono::milliseconds& into) -> Status {
      auto read = ReadDuration(value, where, {lo, hi, /*whole_seconds=*/false});
      if (!read.ok()) return std::move(read).error();
      into = read.value();
      return Ok();
    };
    using std::chrono::milliseconds;
    if (key == "max_attempts") {
      CS_RETURN_IF_ERROR(integer(1, 100, o.max_attempts));
    } else if (key == "concurrency") {
      CS_RETURN_IF_ERROR(integer(1, 64, o.concurrency));
    } else if (key == "workers") {
      CS_RETURN_IF_ERROR(integer(1, 64, o.workers));
    } else if (key == "retry_base") {
      CS_RETURN_IF_ERROR(duration(milliseconds(10), milliseconds(3600000), o.retry_base));
    } else if (key == "retry_max") {
      CS_RETURN_IF_ERROR(duration(milliseconds(10), milliseconds(86400000), o.retry_max));
    } else if (key == "timeout") {
      CS_RETURN_IF_ERROR(duration(milliseconds(100), milliseconds(120000), o.call_timeout));
    } else if (key == "callback_secret") {
      auto s = value.value<std::string>();
      if (!s || !value.is_string()) return Error::Invalid(where + " must be a string");
      auto resolved = ResolveSecret(*s, where);
      if (!resolved.ok()) return std::move(resolved).error();
      if (resolved.value().size() < 16)
        return Error::Invalid(where + " must be at least 16 characters");
      o.callback_secret = std::move(resolved).value();
    } else {
      return Error::Invalid(where +
                            ": unknown key (max_attempts, retry_base, retry_max, timeout, "
                            "concurrency, workers, callback_secret)");
    }
  }
  if (o.retry_max < o.retry_base) {
    return Error::Invalid(Where(file, *node, "outbox.retry_max") + " is less than retry_base");
  }
  return Ok();
}

Status ReadOutbound(const toml::table& root, const std::string& file, NotifyConfig& out) {
  const toml::node* node = root.get("outbound");
  if (!node) return Ok();
  const toml::table* table = node->as_table();
  if (!table) return Error::Invalid(Where(file, *node, "outbound") + " must be a table");
  OutboundSettings settings;
  std::string allow_where = Where(file, *node, "outbound.allow");
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    const std::string where = Where(file, value, "outbound." + key);
    if (key == "allow") {
      auto read = ReadStringList(value, where, /*allow_empty_items=*/false);
      if (!read.ok()) return std::move(read).error();
      settings.allow = std::move(read).value();
      allow_where = where;
    } else if (key == "allow_http") {
      auto read = ReadBool(value, where);
      if (!read.ok()) return std::move(read).error();
      settings.allow_http = read.value();
    } else {
      return Error::Invalid(where + ": unknown key (allow, allow_http)");
    }
  }
  auto policy = OutboundPolicy::Make(settings, allow_where);
  if (!policy.ok()) return std::move(policy).error();
  out.outbound = std::move(policy).value();
  return Ok();
}

}  // namespace

Result<std::string> ResolveSecret(const std::string& value, const std::string& where) {
  if (value.starts_with("env:")) {
    const std::string name = value.substr(4);
    if (name.empty()) return Error::Invalid(where + ": env: names no environment variable");
    const char* v = std::getenv(name.c_str());
    if (!v) return Error::Invalid(where + ": environment variable " + name + " is not set");
    // Set to nothing is a mistake of its own (an empty secret), and says so.
    if (!*v) return Error::Invalid(where + ": environment variable " + name + " is empty");
    return std::string(v);
  }
  if (value.starts_with("file:")) {
    const std::string path = value.substr(5);
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error::Invalid(where + ": cannot read " + path);
    std::ostringstream content;
    content << in.rdbuf();
    std::string s = content.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) return Error::Invalid(where + ": " + path + " is empty");
    return s;
  }
  return value;
}

Result<NotifyConfig> ReadNotifyTables(const toml::table& root, const std::string& file) {
  NotifyConfig out;
  std::set<std::string> names;
  CS_RETURN_IF_ERROR(ReadChannels(root, file, out, names));
  CS_RETURN_IF_ERROR(ReadWebhooks(root, file, out));
  CS_RETURN_IF_ERROR(ReadIdentities(root, file, out));
  CS_RETURN_IF_ERROR(ReadOutbox(root, file, out));
  CS_RETURN_IF_ERROR(ReadOutbound(root, file, out));
  return out;
}

}  // namespace countersign
