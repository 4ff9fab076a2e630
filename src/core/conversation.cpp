#include "core/conversation.hpp"

namespace countersign {
namespace {

// Indexed by the enumerator's value; the order must match the enum declarations.
constexpr const char* kPhaseNames[] = {"posted", "chatting", "closing", "closed"};
constexpr const char* kStepNames[] = {"none", "greet", "judge", "close"};
constexpr const char* kRoleNames[] = {"subject", "bot", "analyst", "note"};

template <typename Enum, size_t N>
std::optional<Enum> ParseName(std::string_view text, const char* const (&names)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

const char* PhaseName(ConversationPhase phase) { return kPhaseNames[static_cast<int>(phase)]; }
const char* StepName(ConversationStep step) { return kStepNames[static_cast<int>(step)]; }
const char* MessageRoleName(MessageRole role) { return kRoleNames[static_cast<int>(role)]; }
std::optional<ConversationPhase> ParsePhase(std::string_view text) {
  return ParseName<ConversationPhase>(text, kPhaseNames);
}
std::optional<ConversationStep> ParseStep(std::string_view text) {
  return ParseName<ConversationStep>(text, kStepNames);
}
std::optional<MessageRole> ParseMessageRole(std::string_view text) {
  return ParseName<MessageRole>(text, kRoleNames);
}

}  // namespace countersign
