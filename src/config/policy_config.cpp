#include "config/policy_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "config/duration.hpp"
#include "config/toml_values.hpp"
#include "config/where.hpp"

namespace countersign {
namespace {

using Groups = std::map<std::string, std::vector<std::string>>;

// As request deadlines: whole seconds, up to 30 days.
constexpr DurationRange kPolicyDuration{std::chrono::seconds(1), std::chrono::hours(30 * 24), true};
constexpr std::chrono::seconds kMaxRateWindow = std::chrono::hours(24);
constexpr int64_t kMaxRateCount = 1'000'000;
constexpr int kMaxQuorum = 100;
constexpr int kMaxConnections = 1000000;
constexpr std::string_view kGroupPrefix = "group:";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string Indexed(std::string_view key, size_t index) {
  return std::string(key) + "[" + std::to_string(index) + "]";
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

// The characters of an action name (see the API), plus the two wildcards.
bool IsActionGlobChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == ':' ||
         c == '/' || c == '-' || c == '*' || c == '?';
}

Status ReadString(const toml::node& node, const std::string& where, std::string& out) {
  auto text = ReadNonEmptyText(node, where);
  if (!text.ok()) return std::move(text).error();
  out = std::move(text).value();
  return Ok();
}

// A string that must be one of `allowed`.
Status ReadWord(const toml::node& node, const std::string& where,
                std::initializer_list<std::string_view> allowed, std::string& out) {
  CS_RETURN_IF_ERROR(ReadString(node, where, out));
  if (std::find(allowed.begin(), allowed.end(), out) != allowed.end()) return Ok();
  std::string list;
  for (auto word : allowed) {
    if (!list.empty()) list += " or ";
    list += "\"" + std::string(word) + "\"";
  }
  return Error::Invalid(where + " must be " + list + ", got " + Quoted(out));
}

// An array of non-empty strings, each listed once.
Status ReadStrings(const std::string& file, const toml::node& node, std::string_view key,
                   std::vector<std::string>& out) {
  const auto* array = node.as_array();
  if (array == nullptr)
    return Error::Invalid(Where(file, node, key) + " must be an array of strings");
  out.clear();
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string where = Where(file, element, Indexed(key, i));
    std::string value;
    CS_RETURN_IF_ERROR(ReadString(element, where, value));
    if (std::find(out.begin(), out.end(), value) != out.end()) {
      return Error::Invalid(where + ": " + Quoted(value) + " is listed twice");
    }
    out.push_back(std::move(value));
  }
  return Ok();
}

Status ReadInt(const toml::node& node, const std::string& where, int lo, int hi, int& out) {
  auto integer = ReadInteger(node, where, lo, hi);
  if (!integer.ok()) return std::move(integer).error();
  out = static_cast<int>(integer.value());
  return Ok();
}

// A duration string ("15m") or an integer number of seconds, 1 s to 30 days.
Status ReadPolicyDuration(const toml::node& node, const std::string& where,
                          std::chrono::seconds& out) {
  auto duration = ReadDuration(node, where, kPolicyDuration);
  if (!duration.ok()) return std::move(duration).error();
  out = std::chrono::duration_cast<std::chrono::seconds>(duration.value());
  return Ok();
}

// grant_options: ["session:1h", "requester:30d"], each scope at most once; [] offers none.
Status ReadGrantOptions(const std::string& file, const toml::node& node, const std::string& key,
                        std::vector<GrantOption>& out) {
  std::vector<std::string> entries;
  CS_RETURN_IF_ERROR(ReadStrings(file, node, key, entries));
  out.clear();
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    const std::string where = Where(file, *node.as_array()->get(i), Indexed(key, i));
    const size_t colon = entry.find(':');
    const std::string scope = entry.substr(0, colon);
    if (colon == std::string::npos || (scope != "session" && scope != "requester")) {
      return Error::Invalid(
          where + " must be \"session:DURATION\" or \"requester:DURATION\", got " + Quoted(entry));
    }
    for (const auto& earlier : out) {
      if (earlier.scope == scope) return Error::Invalid(where + ": " + scope + " is listed twice");
    }
    auto ttl = ParseDurationValue(entry.substr(colon + 1), where, kPolicyDuration);
    if (!ttl.ok()) return std::move(ttl).error();
    out.push_back({scope, std::chrono::duration_cast<std::chrono::seconds>(ttl.value())});
  }
  return Ok();
}

// An approvers entry: a principal, "*", a chat identity, or "group:NAME" of a defined group.
Status CheckApprover(const std::string& entry, const std::string& where, const Groups& groups) {
  if (!StartsWith(entry, kGroupPrefix)) return Ok();
  const std::string group = entry.substr(kGroupPrefix.size());
  if (group.empty()) return Error::Invalid(where + ": \"group:\" needs a group name");
  if (groups.count(group) == 0) {
    return Error::Invalid(where + ": group " + Quoted(group) +
                          " is not defined in [groups] (a group that only API tokens carry "
                          "must still be declared, e.g. " +
                          group + " = [])");
  }
  return Ok();
}

Status ReadApprovers(const std::string& file, const toml::node& node, std::string_view key,
                     const Groups& groups, std::vector<std::string>& out) {
  CS_RETURN_IF_ERROR(ReadStrings(file, node, key, out));
  const auto* array = node.as_array();
  for (size_t i = 0; i < out.size(); ++i) {
    CS_RETURN_IF_ERROR(CheckApprover(out[i], Where(file, *array->get(i), Indexed(key, i)), groups));
  }
  return Ok();
}

// What a policy's entries may name: the declared groups and the configured channels.
struct Names {
  const Groups& groups;
  const std::vector<ChannelSettings>& channels;
};

// A notify entry: a [[channel]]'s name, or "TYPE:ADDRESS" for a channel of that type (an
// email channel mails ADDRESS). A misspelt name would otherwise tell nobody, silently.
Status CheckNotifyEntry(const std::string& entry, const std::string& where,
                        const std::vector<ChannelSettings>& channels) {
  const auto named = [&](const ChannelSettings& c) { return c.name == entry; };
  if (std::any_of(channels.begin(), channels.end(), named)) return Ok();
  const size_t colon = entry.find(':');
  if (colon != std::string::npos && colon > 0 && colon + 1 < entry.size()) {
    const std::string type = entry.substr(0, colon);
    const auto typed = [&](const ChannelSettings& c) { return c.type == type; };
    if (std::any_of(channels.begin(), channels.end(), typed)) return Ok();
    return Error::Invalid(where + ": " + Quoted(entry) + " needs a [[channel]] of type " +
                          Quoted(type) + ", and there is none");
  }
  std::string known;
  for (const auto& c : channels) known += (known.empty() ? "" : ", ") + c.name;
  return Error::Invalid(where + ": no [[channel]] is named " + Quoted(entry) +
                        (known.empty() ? std::string(" (no channels are configured)")
                                       : " (the channels are " + known + ")"));
}

Status ReadNotify(const std::string& file, const toml::node& node, std::string_view key,
                  const std::vector<ChannelSettings>& channels, std::vector<std::string>& out) {
  CS_RETURN_IF_ERROR(ReadStrings(file, node, key, out));
  const auto* array = node.as_array();
  for (size_t i = 0; i < out.size(); ++i) {
    CS_RETURN_IF_ERROR(
        CheckNotifyEntry(out[i], Where(file, *array->get(i), Indexed(key, i)), channels));
  }
  return Ok();
}

Status ReadGroups(const toml::table& root, const std::string& file, Groups& out) {
  const toml::node* node = root.get("groups");
  if (node == nullptr) return Ok();
  const auto* table = node->as_table();
  if (table == nullptr) return Error::Invalid(Where(file, *node, "groups") + " must be a table");
  for (const auto& [key, value] : *table) {
    const std::string name(key.str());
    const std::string path = "groups." + name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return Error::Invalid(Where(file, value, path) +
                            ": a group name is letters, digits, '_', '-' and '.'");
    }
    std::vector<std::string> members;
    CS_RETURN_IF_ERROR(ReadStrings(file, value, path, members));
    out[name] = std::move(members);
  }
  // Nested groups, now that every name is known: one level deep, so no cycles.
  for (const auto& [key, value] : *table) {
    const std::string name(key.str());
    const auto& members = out[name];
    for (size_t i = 0; i < members.size(); ++i) {
      const std::string where =
          Where(file, *value.as_array()->get(i), Indexed("groups." + name, i));
      if (members[i] == "*") {
        return Error::Invalid(where + ": '*' can not be a group member; list the principals");
      }
      if (!StartsWith(members[i], kGroupPrefix)) continue;
      const std::string nested = members[i].substr(kGroupPrefix.size());
      if (nested == name)
        return Error::Invalid(where + ": group " + Quoted(name) + " includes itself");
      CS_RETURN_IF_ERROR(CheckApprover(members[i], where, out));
      for (const auto& inner : out[nested]) {
        if (inner == std::string(kGroupPrefix) + name) {
          return Error::Invalid(where + ": groups " + Quoted(name) + " and " + Quoted(nested) +
                                " include each other (a cycle)");
        }
        if (StartsWith(inner, kGroupPrefix)) {
          return Error::Invalid(where + ": group " + Quoted(nested) +
                                " itself includes a group; groups nest one level deep");
        }
      }
    }
  }
  return Ok();
}

Status ReadMatch(const std::string& file, const toml::node& node, const std::string& path,
                 PolicyMatch& out) {
  const auto* table = node.as_table();
  if (table == nullptr) {
    return Error::Invalid(Where(file, node, path) +
                          " must be a table, e.g. { action = \"deploy_*\" }");
  }
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    const std::string where = Where(file, value, path + "." + key);
    if (key == "action") {
      CS_RETURN_IF_ERROR(ReadString(value, where, out.action));
      if (!std::all_of(out.action.begin(), out.action.end(), IsActionGlobChar)) {
        return Error::Invalid(where + ": " + Quoted(out.action) +
                              " can never match an action name (letters, digits, _ . : / - and "
                              "the wildcards * and ?)");
      }
    } else if (key == "requester") {
      CS_RETURN_IF_ERROR(ReadString(value, where, out.requester));
    } else if (key == "tenant") {
      CS_RETURN_IF_ERROR(ReadString(value, where, out.tenant));
    } else if (key == "risk") {
      CS_RETURN_IF_ERROR(ReadWord(value, where, {"normal", "high", "*"}, out.risk));
      if (out.risk == "*") out.risk.clear();
    } else {
      return Error::Invalid(where +
                            ": unknown key (match takes action, requester, tenant and "
                            "risk)");
    }
  }
  return Ok();
}

Status ReadTiers(const std::string& file, const toml::node& node, const std::string& path,
                 const Names& names, std::vector<EscalationTier>& out) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return Error::Invalid(Where(file, node, path) +
                          " must be an array of approver entries or of tables { approvers = "
                          "[...], timeout = \"10m\", notify = [...] }");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string tier_path = Indexed(path, i);
    EscalationTier tier;
    if (element.is_string()) {
      std::string entry;
      CS_RETURN_IF_ERROR(ReadString(element, Where(file, element, tier_path), entry));
      CS_RETURN_IF_ERROR(CheckApprover(entry, Where(file, element, tier_path), names.groups));
      tier.approvers.push_back(std::move(entry));
      out.push_back(std::move(tier));
      continue;
    }
    const auto* table = element.as_table();
    if (table == nullptr) {
      return Error::Invalid(Where(file, element, tier_path) +
                            " must be an approver entry (a string) or a table");
    }
    for (const auto& [key_node, value] : *table) {
      const std::string key(key_node.str());
      const std::string key_path = tier_path + "." + key;
      if (key == "approvers") {
        CS_RETURN_IF_ERROR(ReadApprovers(file, value, key_path, names.groups, tier.approvers));
      } else if (key == "timeout") {
        CS_RETURN_IF_ERROR(ReadPolicyDuration(value, Where(file, value, key_path), tier.timeout));
      } else if (key == "notify") {
        CS_RETURN_IF_ERROR(ReadNotify(file, value, key_path, names.channels, tier.notify));
      } else {
        return Error::Invalid(Where(file, value, key_path) +
                              ": unknown key (a tier takes approvers, timeout and notify)");
      }
    }
    if (tier.approvers.empty()) {
      return Error::Invalid(Where(file, element, tier_path + ".approvers") +
                            " is required and must not be empty");
    }
    out.push_back(std::move(tier));
  }
  return Ok();
}

// Whether `approvers` can be counted: listed names only, no group and no "*".
bool OnlyNamedApprovers(const std::vector<std::string>& approvers) {
  return !approvers.empty() && std::none_of(approvers.begin(), approvers.end(), [](const auto& e) {
    return e == "*" || StartsWith(e, kGroupPrefix);
  });
}

Status ReadPolicy(const std::string& file, const toml::table& table, const std::string& path,
                  const Names& names, Policy& policy) {
  policy.source = WhereLine(file, table);
  // The line of each key given, for checks that involve more than one key.
  std::map<std::string, std::string> where_of;
  bool named = false;
  for (const auto& [key_node, value] : table) {
    const std::string key(key_node.str());
    const std::string key_path = path + "." + key;
    const std::string where = Where(file, value, key_path);
    where_of[key] = where;
    if (key == "name") {
      CS_RETURN_IF_ERROR(ReadString(value, where, policy.name));
      named = true;
    } else if (key == "match") {
      CS_RETURN_IF_ERROR(ReadMatch(file, value, key_path, policy.match));
    } else if (key == "risk") {
      CS_RETURN_IF_ERROR(ReadWord(value, where, {"normal", "high"}, policy.risk));
    } else if (key == "quorum") {
      CS_RETURN_IF_ERROR(ReadInt(value, where, 1, kMaxQuorum, policy.quorum));
    } else if (key == "deny_threshold") {
      CS_RETURN_IF_ERROR(ReadInt(value, where, 1, kMaxQuorum, policy.deny_threshold));
    } else if (key == "approvers") {
      CS_RETURN_IF_ERROR(ReadApprovers(file, value, key_path, names.groups, policy.approvers));
    } else if (key == "timeout") {
      CS_RETURN_IF_ERROR(ReadPolicyDuration(value, where, policy.timeout));
    } else if (key == "max_timeout") {
      std::chrono::seconds most{0};
      CS_RETURN_IF_ERROR(ReadPolicyDuration(value, where, most));
      policy.max_timeout = most;
    } else if (key == "on_timeout") {
      std::string word;
      CS_RETURN_IF_ERROR(ReadWord(value, where, {"expire", "deny", "escalate"}, word));
      policy.on_timeout = *ParseOnTimeout(word);
    } else if (key == "escalate_to") {
      CS_RETURN_IF_ERROR(ReadTiers(file, value, key_path, names, policy.escalate_to));
    } else if (key == "notify") {
      CS_RETURN_IF_ERROR(ReadNotify(file, value, key_path, names.channels, policy.notify));
    } else if (key == "decision") {
      std::string word;
      CS_RETURN_IF_ERROR(ReadWord(value, where, {"approve", "deny"}, word));
      policy.decision = word == "approve" ? AutoDecision::kApprove : AutoDecision::kDeny;
    } else if (key == "remind_every") {
      std::chrono::seconds every{0};
      CS_RETURN_IF_ERROR(ReadPolicyDuration(value, where, every));
      policy.remind_every = every;
    } else if (key == "grant_options") {
      CS_RETURN_IF_ERROR(ReadGrantOptions(file, value, key_path, policy.grant_options));
    } else if (key == "receipt") {
      CS_RETURN_IF_ERROR(ReadWord(value, where, {"reusable", "single_use"}, policy.receipt_use));
    } else if (key == "report_within") {
      CS_RETURN_IF_ERROR(ReadPolicyDuration(value, where, policy.report_within));
    } else {
      return Error::Invalid(where + ": unknown key");
    }
  }

  auto at = [&](const std::string& key) {
    const auto found = where_of.find(key);
    return found != where_of.end() ? found->second : Where(file, table, path + "." + key);
  };
  if (!named) {
    return Error::Invalid(Where(file, table, path + ".name") + " is required");
  }
  if (policy.name == "default") {
    return Error::Invalid(at("name") +
                          ": \"default\" is the name of the built-in policy; pick another");
  }
  if (policy.decision == AutoDecision::kApprove && policy.risk == "high") {
    return Error::Invalid(at("decision") +
                          ": a high-risk policy can never be auto-approved (risk = \"high\")");
  }
  if (policy.max_timeout && policy.timeout > *policy.max_timeout) {
    // A timeout inherited from [server] default_timeout_seconds follows the cap; one the
    // policy states itself contradicts it.
    if (where_of.count("timeout") != 0) {
      return Error::Invalid(at("timeout") + " " + DurationText(policy.timeout) +
                            " is more than max_timeout " + DurationText(*policy.max_timeout));
    }
    policy.timeout = *policy.max_timeout;
  }
  if (policy.on_timeout == OnTimeout::kEscalate && policy.escalate_to.empty()) {
    return Error::Invalid(at("on_timeout") +
                          ": on_timeout = \"escalate\" needs escalate_to (the tiers to "
                          "escalate to)");
  }
  if (OnlyNamedApprovers(policy.approvers)) {
    const int listed = static_cast<int>(policy.approvers.size());
    if (policy.quorum > listed) {
      return Error::Invalid(at("quorum") + " " + std::to_string(policy.quorum) +
                            " is more than the " + std::to_string(listed) +
                            " listed approvers; it could never be met");
    }
    if (policy.deny_threshold > listed) {
      return Error::Invalid(at("deny_threshold") + " " + std::to_string(policy.deny_threshold) +
                            " is more than the " + std::to_string(listed) + " listed approvers");
    }
  }
  return Ok();
}

Status ReadPolicies(const toml::table& root, const std::string& file, const Names& names,
                    std::chrono::seconds default_timeout, std::vector<Policy>& out) {
  const toml::node* node = root.get("policy");
  if (node == nullptr) return Ok();
  const auto* array = node->as_array();
  if (array != nullptr && array->empty()) return Ok();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Error::Invalid(Where(file, *node, "policy") + " must be a list of [[policy]] tables");
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const auto& table = *array->get(i)->as_table();
    const std::string path = Indexed("policy", i);
    Policy policy;
    policy.timeout = default_timeout;
    CS_RETURN_IF_ERROR(ReadPolicy(file, table, path, names, policy));
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].name == policy.name) {
        return Error::Invalid(Where(file, *table.get("name"), path + ".name") + ": " +
                              Quoted(policy.name) + " is already the name of " +
                              Indexed("policy", j) + " (" + out[j].source + ")");
      }
    }
    out.push_back(std::move(policy));
  }
  return Ok();
}

Status ReadRisk(const toml::table& root, const std::string& file,
                std::vector<std::string>& high_risk_actions) {
  const toml::node* node = root.get("risk");
  if (node == nullptr) return Ok();
  const auto* table = node->as_table();
  if (table == nullptr) return Error::Invalid(Where(file, *node, "risk") + " must be a table");
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    const std::string path = "risk." + key;
    if (key != "high_risk_actions") {
      return Error::Invalid(Where(file, value, path) +
                            ": unknown key ([risk] takes high_risk_actions)");
    }
    CS_RETURN_IF_ERROR(ReadStrings(file, value, path, high_risk_actions));
  }
  return Ok();
}

Status ReadLimits(const toml::table& root, const std::string& file, LimitsConfig& out) {
  const toml::node* node = root.get("limits");
  if (node == nullptr) return Ok();
  const auto* table = node->as_table();
  if (table == nullptr) return Error::Invalid(Where(file, *node, "limits") + " must be a table");
  for (const auto& [key_node, value] : *table) {
    const std::string key(key_node.str());
    const std::string where = Where(file, value, "limits." + key);
    int* count = nullptr;
    std::chrono::seconds* window = nullptr;
    if (key == "max_connections" || key == "max_connections_per_ip" ||
        key == "max_pending_per_principal") {
      int& cap = key == "max_connections"          ? out.max_connections
                 : key == "max_connections_per_ip" ? out.max_connections_per_ip
                                                   : out.max_pending_per_principal;
      CS_RETURN_IF_ERROR(ReadInt(value, where, 0, kMaxConnections, cap));
      continue;
    }
    if (key == "idempotency_ttl") {
      CS_RETURN_IF_ERROR(ReadPolicyDuration(value, where, out.idempotency_ttl));
      continue;
    }
    if (key == "rate_per_principal") {
      count = &out.per_principal;
      window = &out.principal_window;
    } else if (key == "rate_per_action") {
      count = &out.per_action;
      window = &out.action_window;
    } else {
      return Error::Invalid(where +
                            ": unknown key ([limits] takes rate_per_principal, "
                            "rate_per_action, max_pending_per_principal, idempotency_ttl, "
                            "max_connections and max_connections_per_ip)");
    }
    const auto* text = value.as_string();
    const auto rate = text != nullptr ? ParseRate(text->get()) : std::nullopt;
    if (!rate) {
      return Error::Invalid(where + " must be \"N/WINDOW\" like \"60/1m\" (N up to " +
                            std::to_string(kMaxRateCount) + ", WINDOW 1s to " +
                            DurationText(kMaxRateWindow) + "), or \"0\" for unlimited");
    }
    *count = rate->first;
    *window = rate->second;
  }
  return Ok();
}

}  // namespace

std::optional<std::pair<int, std::chrono::seconds>> ParseRate(std::string_view text) {
  if (text == "0") return std::make_pair(0, std::chrono::seconds(0));
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  int64_t count = 0;
  for (char c : text.substr(0, slash)) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    count = count * 10 + (c - '0');
    if (count > kMaxRateCount) return std::nullopt;
  }
  std::string window(text.substr(slash + 1));
  if (!window.empty() && std::isdigit(static_cast<unsigned char>(window.front())) == 0) {
    window.insert(0, "1");
  }
  const auto duration = ParseDuration(window);
  if (!duration || *duration < std::chrono::seconds(1) || *duration > kMaxRateWindow ||
      duration->count() % 1000 != 0) {
    return std::nullopt;
  }
  if (count == 0) return std::make_pair(0, std::chrono::seconds(0));
  return std::make_pair(static_cast<int>(count),
                        std::chrono::duration_cast<std::chrono::seconds>(*duration));
}

Result<LoadedConfigFile> ReadPolicyTables(const toml::table& root, const std::string& file,
                                          std::chrono::seconds default_timeout,
                                          const std::vector<ChannelSettings>& channels) {
  Groups groups;
  CS_RETURN_IF_ERROR(ReadGroups(root, file, groups));
  std::vector<Policy> policies;
  CS_RETURN_IF_ERROR(ReadPolicies(root, file, Names{groups, channels}, default_timeout, policies));
  std::vector<std::string> high_risk_actions = PolicySet::DefaultHighRiskActions();
  CS_RETURN_IF_ERROR(ReadRisk(root, file, high_risk_actions));
  LoadedConfigFile loaded;
  CS_RETURN_IF_ERROR(ReadLimits(root, file, loaded.limits));
  loaded.policies = std::make_shared<const PolicySet>(std::move(policies), std::move(groups),
                                                      std::move(high_risk_actions));
  return loaded;
}

}  // namespace countersign
