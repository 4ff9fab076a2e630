// TeamsChannel: a [[channel]] of type "teams". Posts a request to a Microsoft Teams channel
// through a Workflows webhook ("When a Teams webhook request is received").
//
// Settings: `webhook_url` (required); `format` = "adaptive" (default: an Adaptive Card 1.4 in
// the Workflows message envelope) or "messagecard" (the legacy connector MessageCard);
// `principal`, whom the one-click links decide as (default "channel:NAME").
//
// Teams cards cannot call back (no Action.Submit through a webhook), so every choice is an
// Action.OpenUrl (MessageCard: an OpenUri action) to a one-click link, whose GET only shows a
// confirm page. After the choices, and alone on an outcome card, every card has an "Open in
// the inbox" action to the request's page in the web inbox (LinkBuilder::InboxUrl). A webhook
// cannot edit what it posted: created, escalated and reminded events post the request card; a
// resolution (resolved, expired, cancelled) posts an outcome card without the choices. Row kind:
// "post" only. Card text is cut to kMax* limits on UTF-8 boundaries.
//
// Thread-safe (immutable after Create()). The LinkBuilder passed to Create() must outlive the
// channel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"

namespace countersign {

class TeamsChannel final : public Channel {
 public:
  enum class Format { kAdaptive, kMessageCard };

  static constexpr size_t kMaxTitle = 512;
  static constexpr size_t kMaxFact = 1000;
  static constexpr size_t kMaxArguments = 3000;

  // Validates and takes the settings; errors name the offending key. `links` must outlive
  // the channel.
  static Result<std::unique_ptr<Channel>> Create(ChannelSettings settings,
                                                 const LinkBuilder& links);

  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "teams"; }
  std::vector<std::string> KindsFor(std::string_view event_type) const override;
  Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                              std::string_view message_ref) const override;
  // As the default, and also retries a legacy connector's HTTP 200 that reports a throttle
  // ("... returned HTTP error 429 ...") in its body.
  DeliveryOutcome Interpret(const OutboxRow& row, const OutboundReply& reply) const override;

  Format format() const { return format_; }

 private:
  TeamsChannel(std::string name, const LinkBuilder& links);

  boost::json::object AdaptiveMessage(const Request& request, std::string_view event) const;
  boost::json::object MessageCard(const Request& request, std::string_view event) const;

  std::string name_;
  const LinkBuilder& links_;
  std::string webhook_url_;
  Format format_ = Format::kAdaptive;
  std::string principal_;
};

}  // namespace countersign
