// NotifyConfig: the config file's [[channel]], [[webhook]], [identities], [outbox] and
// [outbound] tables.
//
// Secrets in channel and webhook tables may be given as "env:NAME" (the variable must be set)
// or "file:/path" (the file's content, trailing newline removed) instead of a literal; they
// are resolved here, at start-up. Errors name the file, line and key. Read at start-up only
// (a SIGHUP reload does not change channels).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "core/result.hpp"
#include "notify/channel_settings.hpp"
#include "notify/outbound_policy.hpp"

namespace countersign {

struct WebhookSettings {
  std::string name;
  std::string url;
  std::string secret;
  std::vector<std::string> events;  // empty: every request event
  std::string tenant;               // empty: every tenant
  // Whether bodies that ask for a decision carry the request's one-click links (anyone who
  // reads them can decide as the approvers they name): off unless the table says so.
  bool links = false;
};

struct OutboxSettings {
  int max_attempts = 8;
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{5 * 60 * 1000};
  std::chrono::milliseconds call_timeout{10000};
  int concurrency = 2;  // attempts in flight per destination
  int workers = 4;
  // Signs the POSTs to requests' callback_url. Empty: a key kept in the data directory.
  std::string callback_secret;
};

struct NotifyConfig {
  std::vector<ChannelSettings> channels;     // each with `tenant` resolved (default "default")
  std::vector<std::string> channel_tenants;  // parallel to channels
  std::vector<WebhookSettings> webhooks;
  std::map<std::string, std::string> identities;  // "slack:U024BE7LH" -> "alice"
  OutboxSettings outbox;
  // [outbound]: where the server may send the calls it makes for someone (callback_url,
  // webhooks, channels' api_base, AiSOC URLs). The default: https to public addresses only.
  OutboundPolicy outbound;
};

// Reads the five tables from a parsed file (any of them may be absent).
Result<NotifyConfig> ReadNotifyTables(const toml::table& root, const std::string& file);

// "env:NAME" and "file:/path" to their values; anything else as it is. `where` names the key
// in errors.
Result<std::string> ResolveSecret(const std::string& value, const std::string& where);

}  // namespace countersign
