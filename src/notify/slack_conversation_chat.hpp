// SlackConversationChat: ConversationChat over Slack's Web API, with the bot token, feed
// channel and api_base of a [[channel]] of type "slack" (PROTOCOLS-AGENTS.md 4.3).
//
// The alert message is Block Kit: a section naming the alert and the user, a context line, and
// the buttons of the conversation's phase (Start chat and Do nothing; then End chat, with
// User confirmed and User denied when the analysts settle it). A button's value is the
// channel's usual {"channel","request","choice"} with a choice of kStartChoice, ..., so a press
// comes back through the same hook (or Socket Mode) as every button. User text is escaped for
// mrkdwn and cut to Slack's limits.
//
// Thread-safe: immutable after construction; the channel and transport must outlive it.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "notify/conversation_chat.hpp"
#include "notify/http_transport.hpp"
#include "notify/slack_channel.hpp"

namespace countersign {

class SlackConversationChat final : public ConversationChat {
 public:
  // The choices of a conversation's buttons.
  static constexpr char kStartChoice[] = "conv_start";
  static constexpr char kDismissChoice[] = "conv_dismiss";
  static constexpr char kEndChoice[] = "conv_end";
  static constexpr char kConfirmedChoice[] = "conv_confirmed";
  static constexpr char kDeniedChoice[] = "conv_denied";
  static constexpr std::chrono::milliseconds kCallTimeout{10000};

  SlackConversationChat(const SlackChannel& channel, HttpTransport& transport)
      : channel_(channel), transport_(transport) {}

  const std::string& name() const override { return channel_.name(); }
  Result<ChatMessageRef> PostAlert(const Request& r, const Conversation& c,
                                   bool with_model) override;
  Status UpdateAlert(const Request& r, const Conversation& c, bool with_model) override;
  Result<std::string> SendToSubject(const Conversation& c, const ConversationMessage& m) override;
  Status Mirror(const Conversation& c, const ConversationMessage& m) override;

  // The alert message's blocks as `r` and `c` stand (pure; public for tests).
  boost::json::array AlertBlocks(const Request& r, const Conversation& c, bool with_model) const;
  // The thread's line for `m`: "Sent to @user: > …", "Received from @user: > …", an analyst's
  // relayed words, or a note as it is.
  static std::string MirrorText(const Conversation& c, const ConversationMessage& m);
  // "<@U123>" for a Slack identity ("slack:U123"), the escaped name otherwise.
  static std::string Mention(const std::string& who);

 private:
  // Calls Web API `method` with `body`; the reply's JSON object when ok.
  Result<boost::json::object> Call(const std::string& method, const boost::json::object& body);

  const SlackChannel& channel_;
  HttpTransport& transport_;
};

}  // namespace countersign
