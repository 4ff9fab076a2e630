// HookHandlers: the chat platforms' signed callbacks. Today POST /hooks/slack, Slack's
// Interactivity Request URL (a public route: the signature is the credential).
//
// Every request is first offered to each Slack channel's ParseCallback(), which verifies the
// signature before reading anything:
//   - no channel verifies it: 401 with the JSON error, nothing recorded (an unsigned
//     `ssl_check=1` probe is the one exception: 200, nothing recorded);
//   - verified but not a countersign button (another interaction type, a URL button, the
//     Events API's url_verification, which gets its challenge back): 200, nothing recorded;
//   - a button press: the Slack user ("slack:" + user id) is looked up in [identities].
//     Unmapped: Gateway::RejectCallback records decision.rejected and the outbox answers the
//     person ephemerally through response_url. Mapped: Gateway::Decide as Actor{principal,
//     approver, the channel's tenant, groups of that principal's active tokens}, with
//     NewDecision.via naming the channel, identity and response_url — the same engine path
//     as the API. A decision the engine refuses (403, 409, 422) is recorded by Decide itself
//     as decision.rejected with `via`, so the person hears why in the same way.
// Slack needs an answer within 3 s: the handler waits for the engine at most kAnswerWithin,
// then answers 200 (empty body) whatever happened; the message itself is updated afterwards
// by the outbox (chat.update), not in this answer.
//
// Thread-safe: no mutable state of its own; gateway and channels must outlive the handlers.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "engine/gateway.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "notify/channel.hpp"
#include "notify/channel_set.hpp"

namespace countersign {

class HookHandlers {
 public:
  // Below Slack's 3 s, leaving room for the network.
  static constexpr std::chrono::milliseconds kAnswerWithin{2500};

  // `slack`: the configured Slack channels with their tenants (ChannelSet::OfType("slack")).
  // `identities`: "slack:U024BE7LH" -> principal name. `metrics` may be null.
  HookHandlers(Gateway& gateway, const std::vector<const ChannelSet::Entry*>& slack,
               std::map<std::string, std::string> identities, Metrics* metrics = nullptr);

  void Register(Router& router);

  asio::awaitable<HttpResponse> Slack(RequestContext& ctx);

 private:
  struct SlackHook {
    const Channel* channel;
    std::string tenant;
  };

  // The principal as an approver of `tenant`, with the groups of its active tokens there.
  Actor PrincipalActor(const std::string& principal, const std::string& tenant) const;

  Gateway& gateway_;
  std::vector<SlackHook> slack_;
  std::map<std::string, std::string> identities_;
  Metrics* metrics_;
};

}  // namespace countersign
