// ChannelSettings: one [[channel]] table of the config file, as a channel's constructor sees
// it. Secrets given as "env:NAME" or "file:/path" are already resolved. Constructors take
// what they know out of `values` and reject what is left, naming `source` in the error.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace countersign {

struct ChannelSettings {
  std::string name;
  std::string type;
  std::map<std::string, std::string> values;  // every other key, as text
  std::string source;                         // "countersign.toml:42", for errors
  std::map<std::string, std::string> lines;   // each key's own "countersign.toml:44"

  // What an error about `key` starts with: the key's line (the table's when unknown) and the
  // channel: "countersign.toml:44: channel 'ops' (slack)".
  std::string At(const std::string& key) const {
    auto it = lines.find(key);
    if (it == lines.end()) it = lines.find(key.substr(0, key.find('.')));
    return (it == lines.end() ? source : it->second) + ": channel '" + name + "' (" + type + ")";
  }

  // Removes and returns `key`; nullopt when absent.
  std::optional<std::string> Take(const std::string& key) {
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    std::string value = std::move(it->second);
    values.erase(it);
    return value;
  }
  // Removes and returns `key`, or an error naming it when it is absent or empty.
  Result<std::string> TakeRequired(const std::string& key) {
    auto value = Take(key);
    if (!value || value->empty()) {
      return Error::Invalid(source + ": channel '" + name + "' (" + type + ") needs " + key);
    }
    return *value;
  }
  // Removes `api_base` and returns it without trailing slashes, or `fallback` when absent; an
  // error naming the key when it is not an http(s) URL.
  Result<std::string> TakeApiBase(std::string fallback) {
    auto value = Take("api_base");
    if (!value) return fallback;
    while (!value->empty() && value->back() == '/') value->pop_back();
    if (!value->starts_with("https://") && !value->starts_with("http://")) {
      return Error::Invalid(At("api_base") + " api_base must be an http or https URL");
    }
    return *value;
  }
  // An error naming the first key nobody took, or Ok.
  Status RejectUnknown() const {
    if (values.empty()) return Ok();
    return Error::Invalid(At(values.begin()->first) + " has no setting '" + values.begin()->first +
                          "'");
  }
};

}  // namespace countersign
