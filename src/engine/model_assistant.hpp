// ModelAssistant: a conversation's words from an OpenAI-compatible model ([llm],
// docs/conversations.md).
//
// The alert and the transcript reach the model only as user-role content, inside delimiters
// the system prompt names as data, never as instructions; the subject's words are labelled
// with their speaker. The judge answers through response_format json_schema
// {has_answered, is_aware, confidence, reason}; an answer that is not that JSON is read once
// more leniently (the first {...} in it), else the judge failed and the caller retries or asks
// the analysts. Greeting, nudge and summary are checked for length and emptiness only, and
// are sent to Slack escaped. Thread-safe.
#pragma once

#include <string>

#include "engine/conversation_assistant.hpp"
#include "notify/chat_completions_client.hpp"

namespace countersign {

struct ModelPrompts {
  std::string greeting;
  std::string judge;
  std::string nudge;
  std::string summary;

  // This project's own prompts.
  static ModelPrompts Defaults();
};

class ModelAssistant final : public ConversationAssistant {
 public:
  static constexpr size_t kMaxOutputBytes = 3000;

  ModelAssistant(ChatCompletionsClient client, ModelPrompts prompts)
      : client_(std::move(client)), prompts_(std::move(prompts)) {}

  bool judges() const override { return true; }
  void Cancel() const override { client_.Cancel(); }
  Result<std::string> Greeting(const Conversation& c, ModelCall& call) const override;
  Result<Verdict> Judge(const Conversation& c, const std::vector<ConversationMessage>& transcript,
                        ModelCall& call) const override;
  Result<std::string> Nudge(const Conversation& c,
                            const std::vector<ConversationMessage>& transcript,
                            ModelCall& call) const override;
  Result<std::string> Summary(const Conversation& c,
                              const std::vector<ConversationMessage>& transcript,
                              ModelCall& call) const override;

  // The judge's answer read from the model's text (public for tests).
  static Result<Verdict> ReadVerdict(const std::string& text);
  // The alert, and the transcript with speakers, as the model reads them (public for tests).
  static std::string AlertText(const Conversation& c);
  static std::string TranscriptText(const std::vector<ConversationMessage>& transcript);

 private:
  // Asks with `system` and one user message; fills `call`.
  Result<std::string> Ask(const std::string& system, const std::string& user, double temperature,
                          ModelCall& call) const;

  ChatCompletionsClient client_;
  ModelPrompts prompts_;
};

}  // namespace countersign
