// TemplateAssistant: a conversation's words without a model. The greeting names the alert and
// asks the question; a nudge repeats it; the summary lists the subject's answers. It does not
// judge: the analysts settle the chat with User confirmed / User denied. Never fails.
// Stateless; thread-safe.
#pragma once

#include "engine/conversation_assistant.hpp"

namespace countersign {

class TemplateAssistant final : public ConversationAssistant {
 public:
  bool judges() const override { return false; }
  Result<std::string> Greeting(const Conversation& c, ModelCall& call) const override;
  Result<Verdict> Judge(const Conversation& c, const std::vector<ConversationMessage>& transcript,
                        ModelCall& call) const override;
  Result<std::string> Nudge(const Conversation& c,
                            const std::vector<ConversationMessage>& transcript,
                            ModelCall& call) const override;
  Result<std::string> Summary(const Conversation& c,
                              const std::vector<ConversationMessage>& transcript,
                              ModelCall& call) const override;
};

}  // namespace countersign
