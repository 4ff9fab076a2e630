#include "config/toml_values.hpp"

namespace countersign {

Result<std::string> ReadText(const toml::node& node, const std::string& where) {
  if (const auto* text = node.as_string()) return text->get();
  return Error::Invalid(where + " must be a string");
}

Result<std::string> ReadNonEmptyText(const toml::node& node, const std::string& where) {
  const auto* text = node.as_string();
  if (text == nullptr || text->get().empty()) {
    return Error::Invalid(where + " must be a non-empty string");
  }
  return text->get();
}

Result<bool> ReadBool(const toml::node& node, const std::string& where) {
  if (const auto* boolean = node.as_boolean()) return boolean->get();
  return Error::Invalid(where + " must be true or false");
}

Result<int64_t> ReadInteger(const toml::node& node, const std::string& where, int64_t lo,
                            int64_t hi) {
  const auto* integer = node.as_integer();
  if (integer == nullptr) return Error::Invalid(where + " must be an integer");
  if (integer->get() < lo || integer->get() > hi) {
    return Error::Invalid(where + " must be " + std::to_string(lo) + "-" + std::to_string(hi));
  }
  return integer->get();
}

Result<int64_t> ReadIntegerBetween(const toml::node& node, const std::string& where, int64_t lo,
                                   int64_t hi) {
  const auto* integer = node.as_integer();
  if (integer == nullptr || integer->get() < lo || integer->get() > hi) {
    return Error::Invalid(where + " must be an integer " + std::to_string(lo) + "-" +
                          std::to_string(hi));
  }
  return integer->get();
}

Result<std::chrono::milliseconds> ReadDuration(const toml::node& node, const std::string& where,
                                               const DurationRange& range) {
  if (const auto* integer = node.as_integer()) {
    return CheckDurationSeconds(integer->get(), where, range);
  }
  if (const auto* text = node.as_string()) return ParseDurationValue(text->get(), where, range);
  return Error::Invalid(where + " must be a duration like \"15m\" or an integer number of seconds");
}

Result<std::vector<std::string>> ReadStringList(const toml::node& node, const std::string& where,
                                                bool allow_empty_items) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return Error::Invalid(where + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *array) {
    const auto* text = item.as_string();
    if (text == nullptr || (!allow_empty_items && text->get().empty())) {
      return Error::Invalid(where + (allow_empty_items ? " must be an array of strings"
                                                       : " must be an array of non-empty strings"));
    }
    out.push_back(text->get());
  }
  return out;
}

}  // namespace countersign
