// Fuzzes DiscordChannel::ParseCallback (notify/discord_channel.hpp), what POST /hooks/discord
// runs on an interaction: the input is the interaction's JSON, signed here with the
// application key the channel is given, so the parser behind the Ed25519 check is reached. A
// fresh channel per input keeps its interaction-id replay cache from refusing a repeat.
// Invariant: a press that parses names a request and a choice position.
#include <cstddef>
#include <cstdint>
#include <string>

#include "auth/link_signer.hpp"
#include "ed25519_fuzz_key.hpp"
#include "notify/discord_channel.hpp"
#include "notify/link_builder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const LinkSigner signer{std::string(32, 'k')};
  static const LinkBuilder links{"https://cs.example.com", signer};
  static const fuzz::Ed25519FuzzKey key;
  auto channel = DiscordChannel::Create({"dc-ops",
                                         "discord",
                                         {{"bot_token", "MTA5ODc2.Gx1a2b.bot-token"},
                                          {"channel_id", "1100000000000000000"},
                                          {"public_key", fuzz::Hex(key.public_key())}},
                                         "fuzz.toml:1",
                                         {}},
                                        links);
  if (!channel.ok()) __builtin_trap();
  const std::string timestamp = "1700000000";
  InboundCallback callback;
  callback.body.assign(reinterpret_cast<const char*>(data), size);
  callback.headers["content-type"] = "application/json";
  callback.headers["x-signature-timestamp"] = timestamp;
  callback.headers["x-signature-ed25519"] = fuzz::Hex(key.Sign(timestamp + callback.body));
  auto press = channel.value()->ParseCallback(callback, FromUnixMillis(1700000000000));
  if (press.ok() && (press->request_id.empty() || !press->choice_index)) __builtin_trap();
  return 0;
}
