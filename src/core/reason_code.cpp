#include "core/reason_code.hpp"

#include <array>
#include <utility>

namespace countersign {
namespace {

constexpr std::array<std::pair<ReasonCode, const char*>, 13> kNames{{
    {ReasonCode::kNone, ""},
    {ReasonCode::kApproved, "approved"},
    {ReasonCode::kApprovedByGrant, "approved_by_grant"},
    {ReasonCode::kApprovedByPolicy, "approved_by_policy"},
    {ReasonCode::kDeniedByPerson, "denied_by_person"},
    {ReasonCode::kDeniedByPolicy, "denied_by_policy"},
    {ReasonCode::kExpired, "expired"},
    {ReasonCode::kCancelledByRequester, "cancelled_by_requester"},
    {ReasonCode::kCancelledByAdmin, "cancelled_by_admin"},
    {ReasonCode::kEscalationExhausted, "escalation_exhausted"},
    {ReasonCode::kAnswered, "answered"},
    {ReasonCode::kDismissed, "dismissed"},
    {ReasonCode::kEnded, "ended"},
}};

}  // namespace

const char* ReasonCodeName(ReasonCode code) {
  for (const auto& [value, name] : kNames) {
    if (value == code) return name;
  }
  return "";
}

std::optional<ReasonCode> ParseReasonCode(std::string_view text) {
  for (const auto& [value, name] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

}  // namespace countersign
