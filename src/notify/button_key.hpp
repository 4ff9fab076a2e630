// ButtonKey: the short key a Telegram or Discord button carries back to countersign
// (Telegram `callback_data`, at most 64 bytes; Discord `custom_id`, at most 100 characters).
//
// The key is "cs:" + request id + ":" + the choice's position in the request's choices,
// e.g. "cs:req_01JD3Z6Q8W9K4M2N7P5R0S1T2V:0" (36 bytes at most). It needs no secret and no
// table: the platform authenticates the whole callback (Telegram's secret token header,
// Discord's Ed25519 signature) and only delivers presses of buttons the bot itself posted,
// so the key only has to say which request and which choice. A position rather than the
// choice id keeps it within Telegram's 64 bytes whatever the choice ids (up to 64 bytes
// each); a request's choices never change after it is created, so the position is stable.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace countersign {

struct ButtonKey {
  static constexpr std::string_view kPrefix = "cs:";
  static constexpr size_t kMaxChoices = 100;  // positions 0..99
  static constexpr size_t kMaxBytes = 3 + 30 + 1 + 2;

  std::string request_id;
  size_t choice_index = 0;

  // The key of choice `choice_index` (< kMaxChoices) of request `request_id`.
  static std::string Encode(std::string_view request_id, size_t choice_index);
  // The request and position a key names; nullopt for anything that is not exactly such a
  // key (another bot's callback_data, a malformed id, a leading zero, an index out of range).
  static std::optional<ButtonKey> Parse(std::string_view key);
};

}  // namespace countersign
