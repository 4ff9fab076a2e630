// TelegramChannel: a [[channel]] of type "telegram". Posts a request to a Telegram chat with
// the Bot API, one inline-keyboard button per choice, and reads the presses that come back to
// POST /hooks/telegram.
//
// Settings: `bot_token` (from @BotFather), `chat_id` (a numeric chat id such as
// -1001234567890, or "@channelusername"), `secret_token` (the webhook secret, 1-256 of
// A-Z a-z 0-9 _ -: `countersign telegram set-webhook` registers it, and Telegram sends it with
// every update in X-Telegram-Bot-Api-Secret-Token), and optionally `api_base` (default
// https://api.telegram.org; calls go to {api_base}/bot{token}/{method}).
//
// Row kinds: "post" (sendMessage), "update" (editMessageText of the message whose message_ref
// is {"chat_id":C,"message_id":M}, or a fresh sendMessage when there is none; once the request
// has left pending the keyboard is removed), "remind" (a short reply to that message; a fresh
// post when there is none), "respond" (answerCallbackQuery for the callback query the row's
// target names, CallbackTarget(id): the payload's "text", or for {"choice": id} what was
// recorded). The message text is HTML (parse_mode "HTML") with every user-provided value
// escaped, each part cut on UTF-8 boundaries so the whole stays under kMaxText characters.
// With a LinkBuilder, the message ends with a link "Open in the inbox" to the request's page
// in the web inbox (LinkBuilder::InboxUrl), in every state of the message. It is a link in
// the text, not a url button: Telegram refuses url buttons to hosts such as localhost, and
// with them the whole message, where a text link it cannot use stays plain text.
//
// A button's callback_data is a ButtonKey ("cs:" + request id + ":" + choice position, at most
// 36 bytes). No signature is needed in it: Telegram authenticates the whole update with the
// secret token and only sends presses of buttons this bot posted. A question gets no buttons
// (an answer needs typed text). A request that offers standing permissions (grant_options;
// notify/grant_buttons.hpp) gets a row per option under the choices, "Approve for this
// session (1 h)" and "Always approve for REQUESTER (30 days)", whose keys add the scope's
// letter; the edit and the answer after the approval say what was granted.
//
// An update is acted on once: its update_id is remembered for a day, and the same update sent
// again (a replay with the right secret token) is refused (401).
//
// Thread-safe: immutable after Create() but for the replay cache, which locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "auth/replay_cache.hpp"
#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

// A verified callback_query, as far as this channel can read it.
struct TelegramCallbackQuery {
  std::string id;        // callback_query_id: every query must be answered
  bool in_chat = false;  // the pressed message is in this channel's chat
  // A countersign button (its response_url is CallbackTarget(id)); nullopt for other
  // callback_data.
  std::optional<ChannelCallback> press;
};

class TelegramChannel final : public Channel {
 public:
  // Telegram's limits: message text in characters (UTF-16 units), callback answers likewise,
  // callback_data in bytes.
  static constexpr size_t kMaxText = 4096;
  static constexpr size_t kMaxAnswer = 200;
  static constexpr size_t kMaxCallbackData = 64;
  static constexpr size_t kMaxButtonText = 64;
  static constexpr std::string_view kCallbackTargetPrefix = "telegram:callback_query:";

  // Validates and takes the settings; errors name the offending key. `links`, when given,
  // must outlive the channel: it makes the form links a press without a form is offered, and
  // the inbox link of every message.
  static Result<std::unique_ptr<TelegramChannel>> Create(ChannelSettings settings,
                                                         const LinkBuilder* links = nullptr);

  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "telegram"; }
  std::vector<std::string> KindsFor(std::string_view event_type) const override;
  Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                              std::string_view message_ref) const override;
  // Bot API replies are {"ok":true,"result":...} or {"ok":false,"error_code":N,
  // "description":...}: 429 retries after parameters.retry_after (or Retry-After), 5xx and no
  // answer retry, "message is not modified" on an edit counts as delivered, anything else
  // fails. A delivered post or update returns the message_ref {"chat_id":C,"message_id":M}.
  DeliveryOutcome Interpret(const OutboxRow& row, const OutboundReply& reply) const override;
  // ReadUpdate(), then only a countersign button pressed in this channel's chat: another
  // chat's is kNotFound, other callback_data kInvalid.
  Result<ChannelCallback> ParseCallback(const InboundCallback& callback,
                                        TimePoint now) const override;
  bool AnswersEveryPress() const override { return true; }

  // Checks X-Telegram-Bot-Api-Secret-Token (constant time) before reading anything:
  // kUnauthorized when it is missing or wrong. Then a callback_query update is read; any other
  // update is kInvalid, a malformed one kMalformed.
  Result<TelegramCallbackQuery> ReadUpdate(const InboundCallback& callback, TimePoint now) const;

  // The "respond" row target, and so the DecisionVia response_url, that answers callback
  // query `id`.
  static std::string CallbackTarget(std::string_view callback_query_id);
  // answerCallbackQuery as a webhook reply body ({"method":"answerCallbackQuery",...}): how
  // the hook answers a query that no outbox row will (a button of an unknown request).
  static boost::json::object WebhookAnswer(std::string_view callback_query_id,
                                           std::string_view text);
  // setWebhook for `url`, with this channel's secret_token, taking callback queries only.
  OutboundCall SetWebhookCall(const std::string& url) const;

 private:
  TelegramChannel(std::string name, const LinkBuilder* links)
      : name_(std::move(name)), links_(links) {}
  // A "respond" row whose payload offers the form: a private message to the person who
  // pressed (their user id is the private chat's id), with a link button bound to them.
  Result<OutboundCall> FormMessage(const boost::json::object& form, const Request& request) const;

  OutboundCall ApiCall(const std::string& method, const boost::json::object& body) const;
  // The chat to post in: an integer id, or "@username".
  boost::json::value ChatId() const;
  bool IsThisChat(const boost::json::object& chat) const;

  std::string name_;
  const LinkBuilder* links_ = nullptr;
  std::string bot_token_;
  std::string chat_id_;
  std::optional<int64_t> numeric_chat_id_;
  std::string secret_token_;
  std::string api_base_ = "https://api.telegram.org";
  mutable ReplayCache updates_{std::chrono::hours(24), 10000};
};

}  // namespace countersign
