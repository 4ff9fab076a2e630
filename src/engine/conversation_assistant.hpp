// ConversationAssistant: the words of a conversation: the greeting, the judge's reading of the
// transcript, the nudge, and the summary (docs/conversations.md). ModelAssistant asks an
// OpenAI-compatible model; TemplateAssistant writes them from templates and leaves judging to
// the analysts' buttons. The conversation worker calls them off the network threads; each
// fills `call` with what the audit records. Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/conversation.hpp"
#include "core/result.hpp"
#include "engine/conversation_rules.hpp"

namespace countersign {

class ConversationAssistant {
 public:
  virtual ~ConversationAssistant() = default;

  // Whether a model judges the chat (else the analysts settle it with their buttons).
  virtual bool judges() const = 0;
  // The server is stopping: abandon the calls in flight, refuse new ones. For good.
  virtual void Cancel() const {}
  // The first message to the subject, without a salutation (the chat puts their name first).
  virtual Result<std::string> Greeting(const Conversation& c, ModelCall& call) const = 0;
  // Whether the subject has answered the question, from the whole transcript.
  virtual Result<Verdict> Judge(const Conversation& c,
                                const std::vector<ConversationMessage>& transcript,
                                ModelCall& call) const = 0;
  // A short re-ask that knows the alert and what was said.
  virtual Result<std::string> Nudge(const Conversation& c,
                                    const std::vector<ConversationMessage>& transcript,
                                    ModelCall& call) const = 0;
  // The analysts' summary, with who said what.
  virtual Result<std::string> Summary(const Conversation& c,
                                      const std::vector<ConversationMessage>& transcript,
                                      ModelCall& call) const = 0;
};

}  // namespace countersign
