// ConversationChat: what the conversation worker needs of a chat platform to hold a
// conversation (docs/conversations.md): the alert message in the feed with its buttons, the
// direct message with the subject, and the alert's thread where everything is mirrored.
//
// Every call blocks until the platform answered. Errors: kRateLimited with the platform's
// Retry-After, kUnavailable for a failure worth retrying (network, 5xx, a transient platform
// error), anything else for a refusal that retrying will not mend (a wrong channel, a revoked
// token). Implementations are thread-safe.
#pragma once

#include <string>

#include "core/conversation.hpp"
#include "core/request.hpp"
#include "core/result.hpp"

namespace countersign {

struct ChatMessageRef {
  std::string channel;
  std::string ts;
};

class ConversationChat {
 public:
  virtual ~ConversationChat() = default;

  // The [[channel]] this chat is.
  virtual const std::string& name() const = 0;
  // Posts the alert of `r` to the feed, its buttons as `c` stands (`with_model` says whether a
  // model judges the chat, else the analysts do). The properties follow as the thread's first
  // message (a note of the transcript).
  virtual Result<ChatMessageRef> PostAlert(const Request& r, const Conversation& c,
                                           bool with_model) = 0;
  // Rewrites the alert message as `r` and `c` now stand.
  virtual Status UpdateAlert(const Request& r, const Conversation& c, bool with_model) = 0;
  // Sends message `m` (said by countersign or relayed from an analyst) to the subject's
  // direct message, opening it when c.dm_channel is empty: the direct message's channel id.
  // The first message (the greeting) is addressed to the subject by name.
  virtual Result<std::string> SendToSubject(const Conversation& c,
                                            const ConversationMessage& m) = 0;
  // Mirrors `m` into the alert's thread, saying who said it to whom.
  virtual Status Mirror(const Conversation& c, const ConversationMessage& m) = 0;
};

}  // namespace countersign
