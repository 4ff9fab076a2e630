#include "notify/button_key.hpp"

#include "core/id_generator.hpp"

namespace countersign {

namespace {

// The one letter each grant scope has in a key.
constexpr std::string_view kSessionLetter = "s";
constexpr std::string_view kRequesterLetter = "r";

}  // namespace

std::string ButtonKey::Encode(std::string_view request_id, size_t choice_index,
                              std::string_view grant_scope) {
  std::string key(kPrefix);
  key.append(request_id).append(":").append(std::to_string(choice_index));
  if (grant_scope == "session") key.append(":").append(kSessionLetter);
  if (grant_scope == "requester") key.append(":").append(kRequesterLetter);
  return key;
}

std::optional<ButtonKey> ButtonKey::Parse(std::string_view key) {
  if (key.size() > kMaxBytes || !key.starts_with(kPrefix)) return std::nullopt;
  key.remove_prefix(kPrefix.size());
  const size_t colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view id = key.substr(0, colon);
  std::string_view index = key.substr(colon + 1);
  std::string grant_scope;
  if (const size_t scope_colon = index.find(':'); scope_colon != std::string_view::npos) {
    const std::string_view letter = index.substr(scope_colon + 1);
    if (letter == kSessionLetter) {
      grant_scope = "session";
    } else if (letter == kRequesterLetter) {
      grant_scope = "requester";
    } else {
      return std::nullopt;
    }
    index = index.substr(0, scope_colon);
  }
  if (!IsWellFormedId(id, "req_")) return std::nullopt;
  if (index.empty() || index.size() > 2 || (index.size() > 1 && index[0] == '0')) {
    return std::nullopt;
  }
  size_t position = 0;
  for (char c : index) {
    if (c < '0' || c > '9') return std::nullopt;
    position = position * 10 + static_cast<size_t>(c - '0');
  }
  return ButtonKey{std::string(id), position, std::move(grant_scope)};
}

}  // namespace countersign
