// DiscordChannel: a [[channel]] of type "discord". Posts a request as a message with one
// embed and a button per choice, and edits it in place as decisions come in.
//
// Two modes, chosen by the settings:
//   Webhook (`webhook_url`, optional `principal`): POST {webhook_url}?wait=true&
//     with_components=true. A plain webhook cannot carry interactive buttons, so the buttons
//     are link buttons (style 5) to one-click links bound to `principal` (default
//     "channel:NAME"). Edits: PATCH {webhook_url}/messages/{id}?with_components=true.
//   Application (`bot_token`, `channel_id`, `public_key`, optional `api_base`, default
//     https://discord.com/api/v10): POST {api_base}/channels/{channel_id}/messages with
//     "Authorization: Bot TOKEN" and buttons (type 2; style 1 for a "primary" choice, 4 for
//     "danger", 2 otherwise) whose custom_id is a ButtonKey; a request that offers standing
//     permissions (grant_options; notify/grant_buttons.hpp) gets, on a row of their own,
//     "Approve for this session (1 h)" and "Always approve for REQUESTER (30 days)" (style 1,
//     the key adding the scope's letter). Clicks arrive at POST
//     /hooks/discord signed with the application's Ed25519 key (`public_key`, hex). Edits:
//     PATCH {api_base}/channels/{channel_id}/messages/{message_id}.
//
// Row kinds: "post", "update" (edits the message whose message_ref is
// {"channel_id":C,"message_id":M}, or posts afresh when there is none; the choice buttons go
// once the request has left pending), "remind" (application: a reply to the message; webhook: a
// short message of its own; either way without buttons, so it never goes stale). User text is
// escaped for Discord markdown and cut to Discord's limits on UTF-8 boundaries; messages
// never mention anyone (allowed_mentions {"parse": []}). In both modes, and in every state of
// the message, the last button is a link button (style 5) "Open in the inbox" to the
// request's page in the web inbox (LinkBuilder::InboxUrl): after the choices in their last row
// when it has room (Discord takes 5 buttons a row), else on a row of its own.
//
// An interaction is acted on once: its id is remembered for the signature's window, and the
// same signed interaction sent again is refused (401) like a bad signature.
//
// Thread-safe: immutable after Create() but for the replay cache, which locks. The LinkBuilder
// passed to Create() must outlive the channel.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "auth/discord_verifier.hpp"
#include "auth/replay_cache.hpp"
#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

// A verified interaction, as far as this channel can read it.
struct DiscordInteraction {
  enum class Type { kPing, kComponent, kOther };
  Type type = Type::kOther;
  bool in_channel = false;  // kComponent: the clicked message is in this channel
  // kComponent of a countersign button (a ButtonKey custom_id); nullopt otherwise.
  std::optional<ChannelCallback> press;
};

class DiscordChannel final : public Channel {
 public:
  enum class Mode { kWebhook, kApplication };

  // Discord's limits, in characters (UTF-16 units).
  static constexpr size_t kMaxContent = 2000;
  static constexpr size_t kMaxTitle = 256;
  static constexpr size_t kMaxFieldValue = 1024;
  static constexpr size_t kMaxFooter = 2048;
  static constexpr size_t kMaxLabel = 80;
  static constexpr size_t kMaxCustomId = 100;
  static constexpr size_t kMaxUrl = 512;
  static constexpr size_t kButtonsPerRow = 5;

  // Validates and takes the settings; errors name the offending key. `links` must outlive
  // the channel.
  static Result<std::unique_ptr<DiscordChannel>> Create(ChannelSettings settings,
                                                        const LinkBuilder& links);

  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "discord"; }
  std::vector<std::string> KindsFor(std::string_view event_type) const override;
  Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                              std::string_view message_ref) const override;
  // As the default, and: a 429 retries after the body's retry_after (seconds, rounded up)
  // or Retry-After; a delivered post or update returns the message_ref
  // {"channel_id":C,"message_id":M}; a 4xx failure names Discord's code and message.
  DeliveryOutcome Interpret(const OutboxRow& row, const OutboundReply& reply) const override;
  // ReadInteraction(), then only a click of a countersign button in this channel's channel:
  // another channel's is kNotFound, anything else kInvalid.
  Result<ChannelCallback> ParseCallback(const InboundCallback& callback,
                                        TimePoint now) const override;

  // Verifies the Ed25519 signature and the timestamp before reading anything (kUnauthorized;
  // always so in webhook mode, which has no key), then reads the interaction: PING (type 1),
  // a component click (type 3) or anything else. kMalformed when the verified body is not an
  // interaction.
  Result<DiscordInteraction> ReadInteraction(const InboundCallback& callback, TimePoint now) const;

  // The message for `request` as it stands now: content, embeds, components (only the inbox
  // link once it has left pending) and allowed_mentions; `granted`, what the approval granted,
  // is said after the headline. What a post sends, and the `data` of an UPDATE_MESSAGE (type 7)
  // answer to a click. kInvalid when a link is over Discord's limit.
  Result<boost::json::object> MessageData(
      const Request& request, std::string_view event,
      const std::optional<GrantOption>& granted = std::nullopt) const;
  // The `data` of an ephemeral (flags 64) CHANNEL_MESSAGE_WITH_SOURCE answer: `text`, cut to
  // Discord's limit, mentioning nobody. Only the person who clicked sees it.
  static boost::json::object Ephemeral(std::string_view text);
  // Ephemeral(reason) with a link button to the request's form, bound to `principal` and
  // deciding `choice`: the answer to a click that lacked the form the request asks for. The
  // button is left out when the request no longer waits or the link is over Discord's limit.
  boost::json::object FormOffer(const Request& request, const std::string& choice,
                                const std::string& principal, std::string_view reason) const;

  Mode mode() const { return mode_; }

 private:
  DiscordChannel(std::string name, const LinkBuilder& links);

  Result<boost::json::array> Components(const Request& request) const;
  OutboundCall Call(std::string method, std::string url, const boost::json::object& body) const;
  // `webhook_url_` with `path` appended and `query` added to any query it already has.
  std::string WebhookUrl(std::string_view path, std::string_view query) const;

  std::string name_;
  const LinkBuilder& links_;
  Mode mode_ = Mode::kWebhook;
  std::string webhook_url_;
  std::string principal_;
  std::string bot_token_;
  std::string channel_id_;
  std::string api_base_ = "https://discord.com/api/v10";
  std::optional<DiscordVerifier> verifier_;  // application mode only
  mutable ReplayCache interactions_{DiscordVerifier::kWindow, 10000};
};

}  // namespace countersign
