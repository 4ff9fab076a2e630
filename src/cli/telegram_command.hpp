// `countersign telegram set-webhook`: points a Telegram bot's webhook at this server.
//
// Reads the [[channel]] of type "telegram" that --channel names (or the only one) from the
// --config file, with its secrets resolved as `serve` resolves them, and calls the Bot API's
// setWebhook with url = public_url + "/hooks/telegram", the channel's secret_token, and
// allowed_updates ["callback_query"] (the only updates countersign reads). public_url comes
// from --public-url, else [server] public_url. Prints Telegram's answer. Exit status: 0
// Telegram accepted it, 1 Telegram refused it, 3 any other error (no such channel,
// unreadable config, Telegram unreachable, bad usage). Registered on a CLI11 app; the object
// must outlive the parse. Not thread-safe.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class TelegramCommand {
 public:
  // Adds `telegram set-webhook` to `parent`; when it runs, its exit code is stored in
  // `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int SetWebhook() const;

  std::string config_;
  std::optional<std::string> channel_;
  std::optional<std::string> public_url_;
};

}  // namespace countersign
