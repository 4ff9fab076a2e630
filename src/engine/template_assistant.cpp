#include "engine/template_assistant.hpp"

#include "engine/new_alert.hpp"

namespace countersign {
namespace {

// The question as the user reads it: the default one is the analysts' ("was the user
// aware ..."), so the user is asked it in the second person; any other is the sender's own.
std::string QuestionForUser(const Conversation& c) {
  if (c.question == kDefaultQuestion) return "Was this you, or did you know about it?";
  return c.question;
}

}  // namespace

Result<std::string> TemplateAssistant::Greeting(const Conversation& c, ModelCall& call) const {
  std::string text =
      "this is the security team's assistant. We noticed some activity on your "
      "account that we would like to check with you: " +
      c.alert.name + ".";
  if (!c.alert.description.empty()) text += " " + c.alert.description;
  text += "\n" + QuestionForUser(c) +
          " A short answer, with anything you remember about it, is all we need.";
  call.output = text;
  return text;
}

Result<Verdict> TemplateAssistant::Judge(const Conversation&,
                                         const std::vector<ConversationMessage>&,
                                         ModelCall&) const {
  return Error::Invalid("without a model the analysts settle the chat");
}

Result<std::string> TemplateAssistant::Nudge(const Conversation& c,
                                             const std::vector<ConversationMessage>&,
                                             ModelCall& call) const {
  call.output = "Sorry to ask again: " + QuestionForUser(c);
  return call.output;
}

Result<std::string> TemplateAssistant::Summary(const Conversation& c,
                                               const std::vector<ConversationMessage>& transcript,
                                               ModelCall& call) const {
  std::string said;
  int answers = 0;
  for (const auto& m : transcript) {
    if (m.role != MessageRole::kSubject) continue;
    said += (answers++ ? " / \u201c" : "\u201c") + m.text + "\u201d";
  }
  std::string text;
  if (c.result.has_answered && c.result.is_aware) {
    text = *c.result.is_aware ? "The user was aware of the activity"
                              : "The user was not aware of the activity";
    text += " (" + c.result.reason + ").";
  } else {
    text = "The user did not settle the question.";
  }
  text += answers ? " They wrote: " + said : " They wrote nothing.";
  call.output = text;
  return text;
}

}  // namespace countersign
