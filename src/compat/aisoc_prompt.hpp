// AisocPrompt: the chat message that asks a verification's user "was this you?", and what its
// delivery came to.
//
// The message is rendered by countersign's own channels, made for this one post from the
// caller's settings: SlackChannel in incoming-webhook mode (Block Kit: the question as header,
// the request's facts, the context, and an actions block of URL buttons, styles primary /
// danger / none) or TeamsChannel (an Adaptive Card 1.4 in the Workflows envelope, or a legacy
// MessageCard), so escaping, length limits and button styles are the same as for every other
// notification. Only the buttons' targets differ: the channels link to /l/{token}, and the
// prompt's buttons open the seed's callback instead, {public_url}/api/v1/chatops/callback
// ?token={token}, with the same signed token (recipient: the verification's user, expiry: its
// deadline). With a Slack bot_token and channel the same blocks go to chat.postMessage.
// Thread-safe (immutable); `signer` must outlive the prompt.
#pragma once

#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "auth/link_signer.hpp"
#include "core/clock.hpp"
#include "core/public_url.hpp"
#include "core/request.hpp"
#include "core/result.hpp"
#include "notify/channel.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

// Where and how a prompt goes, as the caller asked.
struct AisocPromptTarget {
  std::string transport;     // "slack" or "teams"
  std::string webhook_url;   // a Slack incoming webhook, a Teams Workflows or connector URL
  std::string bot_token;     // Slack: with `channel`, chat.postMessage instead of the webhook
  std::string channel;       // a Slack channel id
  std::string teams_format;  // "adaptive" (Workflows) or "messagecard" (legacy connector)
};

class AisocPrompt {
 public:
  static constexpr const char* kCallbackPath = "/api/v1/chatops/callback";

  // The call that posts a prompt, and the channel that reads its reply.
  struct Prepared {
    std::shared_ptr<const Channel> channel;
    OutboundCall call;
    std::string mode;  // "incoming_webhook", "chat.postMessage", "workflows" or "connector"
  };

  // `slack_api_base` is where chat.postMessage lives ([compat.aisoc] slack_api_base). `clock`
  // must outlive the prompt.
  AisocPrompt(PublicUrl public_url, const LinkSigner& signer, std::string slack_api_base,
              const Clock& clock);

  // The callback URL whose GET shows `recipient` the confirm page for `choice` of `r`.
  std::string CallbackUrl(const Request& r, const std::string& choice,
                          const std::string& recipient) const;

  // The post of `view` (the request as `recipient` should see it) to `target`. kInvalid when
  // the channel refuses the settings or the message is over a platform limit.
  Result<Prepared> Prepare(const Request& view, const AisocPromptTarget& target,
                           const std::string& recipient) const;

  // What the delivery came to: {"mode", "status_code"} (chat.postMessage adds "channel" and
  // "ts"), or kUnavailable saying why the prompt did not arrive (no answer, a non-2xx status,
  // Slack's {"ok": false}).
  Result<boost::json::object> Interpret(const Prepared& prepared, const OutboundReply& reply) const;

 private:
  PublicUrl public_url_;
  LinkBuilder links_;
  std::string slack_api_base_;
  const Clock& clock_;
};

}  // namespace countersign
