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
//
// A grant button ("Approve for this session (1 h)", "Always approve for ci-bot (30 days)")
// adds ":s" (scope session) or ":r" (scope requester) after the position: 38 bytes at most.
// It names only the scope, never a duration: the receiver looks the option up among the
// request's own grant_options, so a forged key can ask for nothing the request does not offer.
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
  static constexpr size_t kMaxBytes = 3 + 30 + 1 + 2 + 2;

  std::string request_id;
  size_t choice_index = 0;
  std::string grant_scope;  // "session", "requester", or empty for a plain choice

  // The key of choice `choice_index` (< kMaxChoices) of request `request_id`, approving with
  // a grant of `grant_scope` ("session" or "requester") when that is not empty.
  static std::string Encode(std::string_view request_id, size_t choice_index,
                            std::string_view grant_scope = {});
  // The request, position and grant scope a key names; nullopt for anything that is not
  // exactly such a key (another bot's callback_data, a malformed id, a leading zero, an index
  // out of range, an unknown scope letter).
  static std::optional<ButtonKey> Parse(std::string_view key);
};

}  // namespace countersign
