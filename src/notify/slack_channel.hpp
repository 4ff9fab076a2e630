// SlackChannel: a [[channel]] of type "slack". Renders a request as a Block Kit message and,
// in Web API mode, reads the button presses that come back to POST /hooks/slack.
//
// Two delivery modes, chosen by the settings:
//   Web API (`bot_token` + `channel`, `signing_secret` required): chat.postMessage with
//     interactive buttons, chat.update to show decisions and the resolution on the same
//     message, threaded replies (thread_ts) for reminders. A button's `action_id` is the
//     choice id and its `value` the compact JSON {"channel":NAME,"request":ID,"choice":ID}
//     (the channel name routes a press to the channel, and so the tenant, that posted it).
//     Approve-outcome buttons of high-risk requests carry a `confirm` dialog. A request that
//     offers standing permissions (grant_options; notify/grant_buttons.hpp) gets one more
//     approve button per option, "Approve for this session (1 h)" and "Always approve for
//     REQUESTER (30 days)", action_id CHOICE:SCOPE and the value adding "grant":SCOPE; the
//     edit after the approval says what was granted (the row payload's "granted").
//   Incoming webhook (`webhook_url`): the same blocks with URL buttons to one-click links
//     bound to the `principal` setting (default "channel:NAME"); a webhook cannot edit what
//     it posted, so a resolution is posted as a new outcome message.
// In Web API mode the executor's report (execution.reported) edits the message too: under the
// approval, "ran: succeeded" or "ran: failed (exit N)" (core/execution_summary.hpp).
// In both modes the context line under the request links to its page in the web inbox
// ("Open in the inbox", LinkBuilder::InboxUrl), whatever the request's state.
// Optional settings: `api_base` (default https://slack.com/api), `signing_secret` in webhook
// mode (only to acknowledge clicks on an app with interactivity turned on).
//
// Row kinds: "post", "update" (Web API; edits the message whose message_ref is
// {"channel":C,"ts":T}, or posts afresh when there is none), "remind" (a reply in the
// message's thread; in webhook mode a post), "respond" (an ephemeral answer POSTed to the
// row's target, a Slack response_url, with payload {"text": ...}; a payload's "form"
// {"choice","principal"} adds a one-click link to the form, bound to that principal, made
// at delivery). Text fields are cut to
// Slack's limits on UTF-8 boundaries; user-provided text is escaped for mrkdwn (&, <, >).
//
// Thread-safe: immutable after Create() except the signature verifier's replay cache, which
// is internally locked. The LinkBuilder passed to Create() must outlive the channel.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "auth/slack_verifier.hpp"
#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

class SlackChannel final : public Channel {
 public:
  enum class Mode { kWebApi, kWebhook };

  // Slack's limits, in UTF-16 code units.
  static constexpr size_t kMaxHeader = 150;
  static constexpr size_t kMaxSection = 3000;
  static constexpr size_t kMaxField = 2000;
  static constexpr size_t kMaxButtonText = 75;
  static constexpr size_t kMaxValue = 2000;
  static constexpr size_t kMaxUrl = 3000;
  static constexpr size_t kMaxMessageText = 4000;

  // Validates and takes the settings; errors name the offending key. `links` must outlive
  // the channel.
  static Result<std::unique_ptr<Channel>> Create(ChannelSettings settings,
                                                 const LinkBuilder& links);

  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "slack"; }
  std::vector<std::string> KindsFor(std::string_view event_type) const override;
  Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                              std::string_view message_ref) const override;
  // Web API replies are HTTP 200 with {"ok":false,"error":...} on failure: `ratelimited`
  // (also HTTP 429) and Slack's transient errors retry (with Retry-After), any other error
  // fails. A delivered post or update returns the message_ref {"channel":C,"ts":T}.
  DeliveryOutcome Interpret(const OutboxRow& row, const OutboundReply& reply) const override;
  // Verifies the signature first (kUnauthorized: nothing is parsed). Then a block_actions
  // press of a countersign button becomes a ChannelCallback; a press of another channel's
  // button is kNotFound; anything else that is verified (other interaction types, URL
  // buttons, forms without a payload) is kInvalid.
  Result<ChannelCallback> ParseCallback(const InboundCallback& callback,
                                        TimePoint now) const override;

  Mode mode() const { return mode_; }

  // Conversations (docs/conversations.md). The Web API settings the conversation worker posts
  // with (`channel` is the alert feed), and how Slack's events reach countersign: the HTTP
  // Events API at /hooks/slack/events (`mode = "events"`, the default), or Socket Mode
  // (`mode = "socket"` with `app_token`, an app-level "xapp-" token). An analyst's thread
  // reply is relayed to the user when it mentions the bot or starts with `analyst_prefix`
  // (default "!").
  const std::string& bot_token() const { return bot_token_; }
  const std::string& feed_channel() const { return channel_; }
  const std::string& api_base() const { return api_base_; }
  const std::string& app_token() const { return app_token_; }
  bool socket_mode() const { return socket_mode_; }
  const std::string& analyst_prefix() const { return analyst_prefix_; }
  // How long a Socket Mode connection may stay silent (Slack's frames and the answers to the
  // pings countersign sends) before it is taken as dead and replaced: `socket_idle_seconds`,
  // 2 to 300, default 20.
  std::chrono::seconds socket_idle_timeout() const { return socket_idle_timeout_; }
  // Checks Slack's v0 signature of an inbound request (Events API), before anything is read.
  Status VerifyRequest(const InboundCallback& request, TimePoint now) const;
  // A block_actions payload (its JSON text) already known to be Slack's (verified, or from
  // the Socket Mode connection): as ParseCallback after verifying.
  Result<ChannelCallback> ParseInteraction(std::string_view payload_text) const;

 private:
  SlackChannel(std::string name, const LinkBuilder& links);

  // The Block Kit blocks of `request` as it stands now (`event` adds a reminder line, and
  // `granted` what an approval granted), and its buttons: none once it has left pending.
  // kInvalid when a value or URL is over Slack's limit.
  Result<boost::json::array> Blocks(const Request& request, std::string_view event,
                                    const std::optional<GrantOption>& granted) const;
  Result<boost::json::array> Buttons(const Request& request) const;
  // The text of a "respond" row: the payload's text, and a link of the presser's own to the
  // form when the payload has one to offer (and the request still waits).
  std::string RespondText(const boost::json::object& payload, const Request& request) const;
  OutboundCall ApiCall(const std::string& method, const boost::json::object& body) const;
  OutboundCall WebhookCall(const boost::json::object& body) const;

  std::string name_;
  const LinkBuilder& links_;
  Mode mode_ = Mode::kWebApi;
  std::string bot_token_;
  std::string channel_;
  std::string api_base_ = "https://slack.com/api";
  std::string webhook_url_;
  std::string principal_;
  std::string app_token_;
  bool socket_mode_ = false;
  std::string analyst_prefix_ = "!";
  std::chrono::seconds socket_idle_timeout_{20};
  std::unique_ptr<SlackVerifier> verifier_;  // null without a signing_secret
};

}  // namespace countersign
