// Fuzzes TelegramChannel::ParseCallback (notify/telegram_channel.hpp), what POST
// /hooks/telegram runs on an update: the input is the update's JSON, sent with the right
// secret token so the parser behind the check is reached. A fresh channel per input keeps
// its update_id replay cache from refusing a repeat.
// Invariant: a press that parses names a request and a choice position, and says where the
// answer goes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "notify/telegram_channel.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  auto channel =
      TelegramChannel::Create({"tg-ops",
                               "telegram",
                               {{"bot_token", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"},
                                {"chat_id", "-1001234567890"},
                                {"secret_token", "fuzz-secret"}},
                               "fuzz.toml:1",
                               {}});
  if (!channel.ok()) __builtin_trap();
  InboundCallback callback;
  callback.headers["x-telegram-bot-api-secret-token"] = "fuzz-secret";
  callback.headers["content-type"] = "application/json";
  callback.body.assign(reinterpret_cast<const char*>(data), size);
  auto press = channel.value()->ParseCallback(callback, FromUnixMillis(1700000000000));
  if (press.ok() &&
      (press->request_id.empty() || !press->choice_index || press->response_url.empty())) {
    __builtin_trap();
  }
  return 0;
}
