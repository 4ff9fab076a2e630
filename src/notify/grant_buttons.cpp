#include "notify/grant_buttons.hpp"

#include <boost/json/parse.hpp>

#include "core/grant_option_text.hpp"
#include "notify/chat_text.hpp"
#include "notify/request_text.hpp"

namespace countersign {

std::optional<size_t> GrantChoiceIndex(const Request& r) {
  if (!r.pending() || r.kind != Kind::kApproval || r.risk == "high" || r.grant_options.empty()) {
    return std::nullopt;
  }
  if (Approvals(r) + 1 < r.quorum) return std::nullopt;
  for (size_t i = 0; i < r.choices.size(); ++i) {
    if (r.choices[i].outcome == Outcome::kApproved) return i;
  }
  return std::nullopt;
}

const GrantOption* GrantOptionOfScope(const Request& r, std::string_view scope) {
  for (const GrantOption& option : r.grant_options) {
    if (option.scope == scope) return &option;
  }
  return nullptr;
}

std::string GrantButtonText(const Request& r, const GrantOption& option, size_t max_units) {
  std::string label = GrantOptionLabel(r, option);
  if (TextLength(label) <= max_units || option.scope != "requester") {
    return TruncateText(label, max_units);
  }
  const std::string head = "Always approve for ";
  const std::string duration = " (" + DurationInWords(option.ttl) + ")";
  const size_t fixed = TextLength(head) + TextLength(duration);
  // Room for at least two characters of the requester (one and the ellipsis).
  if (max_units < fixed + 2) return TruncateText(head + r.requester + duration, max_units);
  return head + TruncateText(r.requester, max_units - fixed) + duration;
}

std::string GrantedText(const Request& r, const GrantOption& granted) {
  const std::string duration = DurationInWords(granted.ttl);
  if (granted.scope == "requester") {
    return "always approved for " + r.requester + " for " + duration;
  }
  return "approved for this session for " + duration;
}

std::string HeadlineWithGrant(const Request& r, std::string_view event,
                              const std::optional<GrantOption>& granted) {
  std::string headline = RequestHeadline(r, event);
  if (granted && r.status == RequestStatus::kApproved) {
    headline += " \u2014 and " + GrantedText(r, *granted);
  }
  return headline;
}

boost::json::object GrantedPayload(const GrantOption& granted) {
  return {{"granted",
           boost::json::object{{"scope", granted.scope}, {"ttl_seconds", granted.ttl.count()}}}};
}

std::optional<GrantOption> GrantedFromPayload(std::string_view payload) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(payload, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* granted = v.get_object().if_contains("granted");
  if (!granted || !granted->is_object()) return std::nullopt;
  const auto* scope = granted->get_object().if_contains("scope");
  const auto* ttl = granted->get_object().if_contains("ttl_seconds");
  if (!scope || !scope->is_string() || !ttl || !ttl->is_int64() || ttl->get_int64() < 1) {
    return std::nullopt;
  }
  return GrantOption{std::string(scope->get_string()), std::chrono::seconds(ttl->get_int64())};
}

}  // namespace countersign
