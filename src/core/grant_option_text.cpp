#include "core/grant_option_text.hpp"

#include <cstdint>

#include "core/counted_noun.hpp"

namespace countersign {

std::string DurationInWords(std::chrono::seconds duration) {
  const int64_t s = duration.count();
  if (s > 0 && s % 86400 == 0) return CountedNoun(s / 86400, "day");
  if (s > 0 && s % 3600 == 0) return std::to_string(s / 3600) + " h";
  if (s > 0 && s % 60 == 0) return std::to_string(s / 60) + " min";
  return std::to_string(s) + " s";
}

std::string GrantOptionLabel(const Request& r, const GrantOption& option) {
  const std::string ttl = " (" + DurationInWords(option.ttl) + ")";
  if (option.scope == "session") return "Approve for this session" + ttl;
  if (option.scope == "requester") {
    return "Always approve " + r.action + " for " + r.requester + ttl;
  }
  return "Approve and allow " + option.scope + ttl;
}

std::string GrantOptionValue(const GrantOption& option) {
  return option.scope + ":" + std::to_string(option.ttl.count());
}

const GrantOption* FindGrantOption(const Request& r, std::string_view value) {
  for (const GrantOption& option : r.grant_options) {
    if (GrantOptionValue(option) == value) return &option;
  }
  return nullptr;
}

}  // namespace countersign
