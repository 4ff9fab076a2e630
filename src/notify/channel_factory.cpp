#include "notify/channel_factory.hpp"

#include "notify/discord_channel.hpp"
#include "notify/email_channel.hpp"
#include "notify/slack_channel.hpp"
#include "notify/teams_channel.hpp"
#include "notify/telegram_channel.hpp"
#include "notify/webhook_channel.hpp"

namespace countersign {
namespace {

// type = "webhook": a signed POST of every event of the requests that name it, with their
// one-click links while they ask for a decision (it is how a custom notifier offers them).
Result<std::unique_ptr<Channel>> MakeWebhookChannel(ChannelSettings settings,
                                                    const LinkBuilder& links, const Clock& clock) {
  auto url = settings.TakeRequired("url");
  if (!url.ok()) return std::move(url).error();
  if (!url->starts_with("http://") && !url->starts_with("https://")) {
    return Error::Invalid(settings.source + ": channel '" + settings.name +
                          "' url must be an http:// or https:// URL");
  }
  auto secret = settings.TakeRequired("secret");
  if (!secret.ok()) return std::move(secret).error();
  if (secret->size() < 16) {
    return Error::Invalid(settings.source + ": channel '" + settings.name +
                          "' secret must be at least 16 characters");
  }
  CS_RETURN_IF_ERROR(settings.RejectUnknown());
  return std::unique_ptr<Channel>(std::make_unique<WebhookChannel>(
      settings.name, std::move(url).value(), std::move(secret).value(), std::vector<std::string>{},
      clock, &links));
}

}  // namespace

Result<std::unique_ptr<Channel>> MakeChannel(ChannelSettings settings, const LinkBuilder& links,
                                             const Clock& clock) {
  if (settings.type == "slack") return SlackChannel::Create(std::move(settings), links);
  if (settings.type == "teams") return TeamsChannel::Create(std::move(settings), links);
  if (settings.type == "webhook") return MakeWebhookChannel(std::move(settings), links, clock);
  if (settings.type == "telegram") {
    auto made = TelegramChannel::Create(std::move(settings), &links);
    if (!made.ok()) return std::move(made).error();
    return std::unique_ptr<Channel>(std::move(made).value());
  }
  if (settings.type == "discord") {
    auto made = DiscordChannel::Create(std::move(settings), links);
    if (!made.ok()) return std::move(made).error();
    return std::unique_ptr<Channel>(std::move(made).value());
  }
  if (settings.type == "email") {
    auto made = EmailChannel::Create(std::move(settings), links);
    if (!made.ok()) return std::move(made).error();
    return std::unique_ptr<Channel>(std::move(made).value());
  }
  return Error::Invalid(settings.source + ": channel '" + settings.name + "' has unknown type '" +
                        settings.type + "' (slack, teams, telegram, discord, email or webhook)");
}

}  // namespace countersign
