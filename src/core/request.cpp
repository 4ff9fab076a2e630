#include "core/request.hpp"

namespace countersign {
namespace {

template <typename Enum, size_t N>
std::optional<Enum> ParseName(std::string_view text, const char* const (&names)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

// Indexed by the enumerator's value; the order must match the enum declarations.
constexpr const char* kKindNames[] = {"approval", "verification", "question", "conversation"};
constexpr const char* kStatusNames[] = {"pending", "approved",  "denied",    "answered",
                                        "expired", "cancelled", "dismissed", "ended"};
constexpr const char* kOutcomeNames[] = {"approved", "denied", "escalate", "answered"};
constexpr const char* kOnTimeoutNames[] = {"expire", "deny", "escalate"};

}  // namespace

const char* KindName(Kind kind) { return kKindNames[static_cast<int>(kind)]; }
const char* StatusName(RequestStatus status) { return kStatusNames[static_cast<int>(status)]; }
const char* OutcomeName(Outcome outcome) { return kOutcomeNames[static_cast<int>(outcome)]; }
const char* OnTimeoutName(OnTimeout on_timeout) {
  return kOnTimeoutNames[static_cast<int>(on_timeout)];
}
std::optional<Kind> ParseKind(std::string_view text) { return ParseName<Kind>(text, kKindNames); }
std::optional<RequestStatus> ParseStatus(std::string_view text) {
  return ParseName<RequestStatus>(text, kStatusNames);
}
std::optional<Outcome> ParseOutcome(std::string_view text) {
  return ParseName<Outcome>(text, kOutcomeNames);
}
std::optional<OnTimeout> ParseOnTimeout(std::string_view text) {
  return ParseName<OnTimeout>(text, kOnTimeoutNames);
}

ReasonCode DefaultReasonFor(RequestStatus status) {
  switch (status) {
    case RequestStatus::kPending:
      return ReasonCode::kNone;
    case RequestStatus::kApproved:
      return ReasonCode::kApproved;
    case RequestStatus::kDenied:
      return ReasonCode::kDeniedByPerson;
    case RequestStatus::kAnswered:
      return ReasonCode::kAnswered;
    case RequestStatus::kExpired:
      return ReasonCode::kExpired;
    case RequestStatus::kCancelled:
      return ReasonCode::kCancelledByRequester;
    case RequestStatus::kDismissed:
      return ReasonCode::kDismissed;
    case RequestStatus::kEnded:
      return ReasonCode::kEnded;
  }
  return ReasonCode::kNone;
}

std::vector<Choice> DefaultChoices(Kind kind) {
  switch (kind) {
    case Kind::kApproval:
      return {{"approve", "Approve", "primary", Outcome::kApproved},
              {"deny", "Deny", "danger", Outcome::kDenied}};
    case Kind::kVerification:
      return {{"acknowledge", "Yes, that was me", "primary", Outcome::kApproved},
              {"deny", "No, that wasn't me", "danger", Outcome::kDenied},
              {"escalate", "I'm not sure \u2014 escalate", "default", Outcome::kEscalate}};
    case Kind::kQuestion:
      return {{"answer", "Answer", "primary", Outcome::kAnswered}};
    case Kind::kConversation:
      return {};  // closed by its chat (engine/conversation_rules.hpp), not by a choice
  }
  return {};
}

const boost::json::object* Request::ResolvedResponse() const {
  std::optional<Outcome> wanted;
  if (status == RequestStatus::kApproved) wanted = Outcome::kApproved;
  if (status == RequestStatus::kAnswered) wanted = Outcome::kAnswered;
  if (!wanted) return nullptr;
  for (auto d = decisions.rbegin(); d != decisions.rend(); ++d) {
    if (d->outcome == *wanted && d->response) return &*d->response;
  }
  return nullptr;
}

const Choice* Request::FindChoice(std::string_view choice_id) const {
  for (const auto& c : choices) {
    if (c.id == choice_id) return &c;
  }
  return nullptr;
}

}  // namespace countersign
