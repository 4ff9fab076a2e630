#include "notify/button_key.hpp"

#include "core/id_generator.hpp"

namespace countersign {

std::string ButtonKey::Encode(std::string_view request_id, size_t choice_index) {
  std::string key(kPrefix);
  key.append(request_id).append(":").append(std::to_string(choice_index));
  return key;
}

std::optional<ButtonKey> ButtonKey::Parse(std::string_view key) {
  if (key.size() > kMaxBytes || !key.starts_with(kPrefix)) return std::nullopt;
  key.remove_prefix(kPrefix.size());
  const size_t colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view id = key.substr(0, colon);
  const std::string_view index = key.substr(colon + 1);
  if (!IsWellFormedId(id, "req_")) return std::nullopt;
  if (index.empty() || index.size() > 2 || (index.size() > 1 && index[0] == '0')) {
    return std::nullopt;
  }
  size_t position = 0;
  for (char c : index) {
    if (c < '0' || c > '9') return std::nullopt;
    position = position * 10 + static_cast<size_t>(c - '0');
  }
  return ButtonKey{std::string(id), position};
}

}  // namespace countersign
