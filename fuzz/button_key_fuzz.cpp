// Fuzzes ButtonKey::Parse (notify/button_key.hpp), what Telegram's callback_data and
// Discord's custom_id are read with. Invariant: a key that parses is exactly what Encode()
// makes of its request id, position and grant scope (one spelling per button).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "notify/button_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto key = ButtonKey::Parse(text);
  if (!key) return 0;
  if (key->choice_index >= ButtonKey::kMaxChoices || text.size() > ButtonKey::kMaxBytes ||
      ButtonKey::Encode(key->request_id, key->choice_index, key->grant_scope) != text) {
    __builtin_trap();
  }
  return 0;
}
