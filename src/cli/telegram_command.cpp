#include "cli/telegram_command.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include "cli/exit_codes.hpp"
#include "config/server_config.hpp"
#include "core/public_url.hpp"
#include "notify/curl_transport.hpp"
#include "notify/telegram_channel.hpp"

namespace countersign {
namespace {

constexpr const char* kFooter =
    "Calls setWebhook with url=PUBLIC_URL/hooks/telegram, the channel's secret_token and "
    "allowed_updates=[\"callback_query\"], and prints Telegram's answer. Telegram only "
    "delivers to https:// URLs on ports 443, 80, 88 or 8443. Exit status: 0 Telegram "
    "accepted it, 1 Telegram refused it, 3 any other error (no such channel, unreadable "
    "config, Telegram unreachable, bad usage).";

constexpr std::chrono::seconds kCallTimeout{15};

std::string StringAt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

void TelegramCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* telegram = parent.add_subcommand("telegram", "Set up a Telegram channel's bot");
  telegram->require_subcommand(1);
  CLI::App* set_webhook = telegram->add_subcommand(
      "set-webhook", "Point the bot's webhook at this server's /hooks/telegram");
  set_webhook->footer(kFooter);
  set_webhook->add_option("--config", config_, "the server's TOML file with the [[channel]]")
      ->required()
      ->type_name("FILE")
      ->envname("COUNTERSIGN_CONFIG");
  set_webhook
      ->add_option("--channel", channel_,
                   "the telegram channel's name (default: the only telegram channel)")
      ->type_name("NAME");
  set_webhook
      ->add_option("--public-url", public_url_,
                   "where Telegram reaches the server (default: [server] public_url)")
      ->type_name("URL")
      ->envname("COUNTERSIGN_PUBLIC_URL");
  set_webhook->callback([this, &exit_code] { exit_code = SetWebhook(); });
}

int TelegramCommand::SetWebhook() const {
  ServeOptions options;
  options.Give("config", config_);
  options.Give("public_url", public_url_);
  auto config = LoadServerConfig(options);
  if (!config.ok()) {
    return ReportFailure(Error::Unavailable("configuration error: " + config.error().message));
  }
  const ChannelSettings* found = nullptr;
  int telegram_channels = 0;
  for (const auto& settings : config->notify.channels) {
    if (settings.type != "telegram") continue;
    ++telegram_channels;
    if (channel_ ? settings.name == *channel_ : !found) found = &settings;
  }
  if (!found || (!channel_ && telegram_channels > 1)) {
    std::string why = channel_ ? config_ + " has no telegram channel named '" + *channel_ + "'"
                      : telegram_channels == 0
                          ? config_ + " has no [[channel]] of type \"telegram\""
                          : config_ + " has several telegram channels: name one with --channel";
    return ReportFailure(Error::Unavailable(why));
  }
  auto channel = TelegramChannel::Create(*found);
  if (!channel.ok()) {
    return ReportFailure(Error::Unavailable("configuration error: " + channel.error().message));
  }
  if (config->public_url.empty()) {
    return ReportFailure(Error::Unavailable(
        "Telegram needs the server's public address: set [server] public_url or --public-url"));
  }
  const std::string url =
      PublicUrl::Parse(config->public_url, "public_url").value().text() + "/hooks/telegram";
  if (!url.starts_with("https://")) {
    std::cerr << "countersign: warning: Telegram only delivers updates to https:// URLs\n";
  }

  CurlTransport transport(config->notify.outbound);
  const OutboundReply reply =
      transport.Send((*channel)->SetWebhookCall(url),
                     std::chrono::duration_cast<std::chrono::milliseconds>(kCallTimeout));
  if (reply.status == 0) {
    return ReportFailure(Error::Unavailable("cannot reach Telegram: " + reply.error));
  }
  boost::system::error_code ec;
  boost::json::value answer = boost::json::parse(reply.body, ec);
  if (ec || !answer.is_object()) {
    return ReportFailure(Error::Unavailable("Telegram answered HTTP " +
                                            std::to_string(reply.status) + " without JSON"));
  }
  const auto& o = answer.get_object();
  const auto* ok = o.if_contains("ok");
  const std::string description = StringAt(o, "description");
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    std::string why = "Telegram refused setWebhook (HTTP " + std::to_string(reply.status) + ")";
    if (!description.empty()) why += ": " + description;
    return ReportFailure(reply.status >= 500 ? Error::Unavailable(why) : Error::Invalid(why));
  }
  std::cout << "webhook of channel '" << found->name << "' set to " << url << "\n";
  if (!description.empty()) std::cout << "Telegram: " << description << "\n";
  return kExitOk;
}

}  // namespace countersign
