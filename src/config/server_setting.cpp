#include "config/server_setting.hpp"

#include <algorithm>
#include <charconv>

#include "config/server_config.hpp"
#include "config/toml_values.hpp"

namespace countersign {
namespace {

std::optional<int64_t> IntegerText(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// "a, b or c".
std::string ListText(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace

Result<SettingValue> ServerSetting::ParseText(std::string_view text,
                                              const std::string& where) const {
  SettingValue value;
  switch (kind) {
    case SettingKind::kText:
      value.text = std::string(text);
      return value;
    case SettingKind::kSwitch:
      if (text == "on" || text == "true") {
        value.on = true;
      } else if (text != "off" && text != "false") {
        return Error::Invalid(where + ": " + name + " must be on or off, got '" +
                              std::string(text) + "'");
      }
      return value;
    case SettingKind::kChoice:
      if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
        return Error::Invalid(where + ": " + name + " must be " + ListText(choices));
      }
      value.text = std::string(text);
      return value;
    case SettingKind::kInteger: {
      const auto integer = IntegerText(text);
      if (!integer) return Error::Invalid(where + " must be an integer");
      if (*integer < min || *integer > max) {
        return Error::Invalid(where + " must be " + std::to_string(min) + "-" +
                              std::to_string(max));
      }
      value.integer = *integer;
      return value;
    }
    case SettingKind::kDuration: {
      auto parsed = ParseDurationValue(text, where, duration);
      if (!parsed.ok()) return std::move(parsed).error();
      value.duration = parsed.value();
      return value;
    }
  }
  return Error::Internal(where + ": setting " + name + " has no kind");
}

Result<SettingValue> ServerSetting::ParseNode(const toml::node& node,
                                              const std::string& where) const {
  SettingValue value;
  if (kind == SettingKind::kInteger) {
    auto integer = ReadInteger(node, where, min, max);
    if (!integer.ok()) return std::move(integer).error();
    value.integer = integer.value();
    return value;
  }
  if (kind == SettingKind::kDuration) {
    auto parsed = ReadDuration(node, where, duration);
    if (!parsed.ok()) return std::move(parsed).error();
    value.duration = parsed.value();
    return value;
  }
  if (const auto* boolean = node.as_boolean(); boolean && kind == SettingKind::kSwitch) {
    value.on = boolean->get();
    return value;
  }
  auto text = ReadText(node, where);
  if (!text.ok()) return std::move(text).error();
  return ParseText(text.value(), where);
}

Status ServerSetting::ApplyText(std::string_view text, const std::string& where,
                                ServerConfig& config) const {
  auto value = ParseText(text, where);
  if (!value.ok()) return std::move(value).error();
  return apply(value.value(), where, config);
}

std::string ServerSetting::CheckForm(std::string_view text) const {
  if (kind == SettingKind::kInteger && !IntegerText(text)) {
    return "'" + std::string(text) + "' is not an integer";
  }
  if (kind == SettingKind::kDuration && !IntegerText(text) && !ParseDuration(text)) {
    return "'" + std::string(text) + "' is not a duration like 30s, 15m or 1h30m";
  }
  return "";
}

std::string ServerSetting::HelpText() const {
  return default_text.empty() ? help : help + " (default " + default_text + ")";
}

std::string ServerSetting::FileKeyText() const {
  const auto dot = file_key.rfind('.');
  if (dot == std::string::npos) return file_key;
  return "[" + file_key.substr(0, dot) + "] " + file_key.substr(dot + 1);
}

}  // namespace countersign
