// HookHandlers: the chat platforms' signed callbacks, public routes where the platform's
// signature is the credential:
//   POST /hooks/slack     Slack's Interactivity Request URL;
//   POST /hooks/telegram  the Telegram bot's webhook (setWebhook);
//   POST /hooks/discord   a Discord application's Interactions Endpoint URL.
//
// Every request is first offered to each channel of that type, which verifies it before
// reading anything (Slack: signing secret, timestamp and replay; Telegram: the
// X-Telegram-Bot-Api-Secret-Token; Discord: Ed25519 over timestamp + body). No channel
// verifies it: 401 with the JSON error, nothing recorded (an unsigned Slack `ssl_check=1`
// probe is the one exception: 200, nothing recorded).
//
// A verified button press of a request goes to the engine the same way on every platform:
// the platform user ("slack:U…", "telegram:123", "discord:456") is looked up in [identities].
// Unmapped: Gateway::RejectCallback records decision.rejected ("not authorised: … is not
// mapped to a principal"). Mapped: Gateway::Decide as Actor{principal, approver, the
// channel's tenant, groups of that principal's active tokens}, with NewDecision.via naming the
// channel, identity and response_url — the same engine path as the API. A decision the engine
// refuses (403, 409, 422) is recorded by Decide itself as decision.rejected with `via`.
// Telegram and Discord buttons carry a ButtonKey (the choice's position), looked up in the
// request before deciding. A grant button ("Approve for this session", notify/grant_buttons.hpp)
// names a grant scope: the option of that scope is looked up in the request as stored and the
// approval gives NewDecision.grant with its duration (never one from the button); a scope the
// request does not offer is refused on the record (Gateway::RejectCallback) and decides nothing.
//
// How each platform hears back (each within kAnswerWithin, whatever the engine does):
//   Slack: 200 with no body; a refusal is answered ephemerally through response_url, and the
//     message is edited, by the outbox.
//   Telegram: 200. Every callback query is answered (answerCallbackQuery): a decision or a
//     refusal that was recorded by the outbox ("respond" row, target
//     TelegramChannel::CallbackTarget(id)), ahead of the message edit; a query that left no
//     record (a foreign button, an unknown request, a store failure) in the webhook reply
//     itself ({"method":"answerCallbackQuery",...}). Updates other than callback queries: 200.
//   Discord: PING → {"type":1}; a click that decided → {"type":7,"data":…} (UPDATE_MESSAGE,
//     the message as it now stands); refused, unmapped or unknown → {"type":4} with an
//     ephemeral (flags 64) message saying why; an engine slower than kAnswerWithin →
//     {"type":6} (the outbox edits the message afterwards).
//
// POST /hooks/slack/events is Slack's Events API Request URL (conversations): the signature
// is checked before the body is read; url_verification is answered with its challenge, an
// unsigned ssl_check with 200, and an event_callback handed to SlackEvents, answering 200 at
// once (the work is done after). A conversation's buttons (choices "conv_…") go to the
// conversation rules (Gateway::ChangeConversation) instead of Decide, with the same identity
// look-up, and a refusal is answered ephemerally the same way.
//
// Thread-safe: no mutable state of its own; gateway and channels must outlive the handlers.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gateway.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/slack_events.hpp"
#include "notify/channel.hpp"
#include "notify/channel_set.hpp"
#include "notify/discord_channel.hpp"
#include "notify/telegram_channel.hpp"

namespace countersign {

class HookHandlers {
 public:
  // Below Slack's and Discord's 3 s, leaving room for the network.
  static constexpr std::chrono::milliseconds kAnswerWithin{2500};

  // Takes the Slack, Telegram and Discord (application mode) channels of `channels`, with
  // their tenants. `identities`: "slack:U024BE7LH" -> principal name. `metrics` may be null.
  HookHandlers(Gateway& gateway, const Clock& clock, const ChannelSet& channels,
               std::map<std::string, std::string> identities, Metrics* metrics = nullptr);

  void Register(Router& router);
  // Where verified Slack events go (null: they are acknowledged and dropped). Set before
  // serving; must outlive the handlers.
  void SetSlackEvents(SlackEvents* events) { slack_events_ = events; }
  // A button press that came over Slack's Socket Mode (already Slack's: the connection is
  // authenticated), down the same path as a press POSTed to /hooks/slack.
  void OfferSocketPress(const SlackChannel& channel, const std::string& tenant,
                        ChannelCallback press);
  asio::awaitable<HttpResponse> SlackEventsHook(RequestContext& ctx);

  asio::awaitable<HttpResponse> Slack(RequestContext& ctx);
  asio::awaitable<HttpResponse> Telegram(RequestContext& ctx);
  asio::awaitable<HttpResponse> Discord(RequestContext& ctx);

 private:
  template <typename C>
  struct Hook {
    const C* channel;
    std::string tenant;
  };

  // What came of offering a press to the engine.
  struct PressOutcome {
    enum class Kind {
      kDecided,   // recorded as a decision
      kRefused,   // refused by the engine, and recorded as decision.rejected
      kUnmapped,  // an identity without a principal, recorded as decision.rejected
      kFailed,    // nothing recorded: an unknown request or choice, a store failure
    };
    Kind kind = Kind::kFailed;
    Gateway::RequestPtr request;  // kDecided: the request after the decision
    std::string message;          // otherwise: why, in words for the person
    // kRefused because the press carried no form the request asks for: the request as it
    // stands (when it could be read) and the principal and choice to offer the form to.
    std::string form_for = {};
    std::string form_choice = {};
    // kDecided by a grant button: the standing permission the approval gave.
    std::optional<GrantOption> granted = {};
  };

  // Looks the press's identity up and hands it to the engine (RejectCallback or Decide) for
  // `tenant`; `done` runs once, on any thread. `platform` names it in messages ("Slack").
  // The look-ups read the store, so they run on the gateway's read executor.
  void OfferPress(ChannelCallback press, std::string channel, std::string tenant,
                  std::string platform, std::function<void(PressOutcome)> done);
  // OfferPress, on the read executor.
  void OfferPressNow(const ChannelCallback& press, const std::string& channel,
                     const std::string& tenant, std::string_view platform,
                     std::function<void(PressOutcome)> done);
  // A press of a conversation's button (choice "conv_…"), on the read executor: as
  // OfferPressNow, through the conversation rules.
  void OfferConversationPress(const ChannelCallback& press, const std::string& channel,
                              const std::string& tenant, std::function<void(PressOutcome)> done);
  // Logs what came of a press (nullopt: the engine took longer than kAnswerWithin).
  static void LogPress(std::string_view platform, const ChannelCallback& press,
                       const std::optional<PressOutcome>& outcome);
  Gateway& gateway_;
  const Clock& clock_;
  std::vector<Hook<Channel>> slack_;
  std::vector<Hook<TelegramChannel>> telegram_;
  std::vector<Hook<DiscordChannel>> discord_;
  std::map<std::string, std::string> identities_;
  Metrics* metrics_;
  SlackEvents* slack_events_ = nullptr;
};

}  // namespace countersign
