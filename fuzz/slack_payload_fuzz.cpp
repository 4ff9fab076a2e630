// Fuzzes SlackChannel::ParseCallback (notify/slack_channel.hpp), what POST /hooks/slack runs
// on a button press. Each input is signed here with the channel's signing secret, so the
// parser behind the signature check is reached; a fresh channel per input keeps the replay
// cache from refusing a repeat. The first input byte picks the body:
//   even: the rest as the raw form body (payload=...);
//   odd:  the rest as the payload's JSON, form-encoded here.
// Invariant: a press that parses names a well-formed request id and a Slack user.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/link_signer.hpp"
#include "auth/slack_verifier.hpp"
#include "notify/link_builder.hpp"
#include "notify/slack_channel.hpp"

namespace {

constexpr char kSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";

std::string FormEncoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) {
      out.push_back(c);
    } else {
      out += {'%', kHex[b >> 4], kHex[b & 0xf]};
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const LinkSigner signer{std::string(32, 'k')};
  static const LinkBuilder links{"https://cs.example.com", signer};
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto channel = SlackChannel::Create(
      {"slack-ops",
       "slack",
       {{"bot_token", "xoxb-fuzz"}, {"channel", "C0123456789"}, {"signing_secret", kSecret}},
       "fuzz.toml:1",
       {}},
      links);
  if (!channel.ok()) __builtin_trap();
  const TimePoint now = FromUnixMillis(1700000000000);
  const std::string timestamp = "1700000000";
  InboundCallback callback;
  callback.body = (data[0] & 1) ? "payload=" + FormEncoded(rest) : std::string(rest);
  callback.headers["content-type"] = "application/x-www-form-urlencoded";
  callback.headers["x-slack-request-timestamp"] = timestamp;
  callback.headers["x-slack-signature"] = SlackVerifier::Sign(kSecret, timestamp, callback.body);
  auto press = channel.value()->ParseCallback(callback, now);
  if (press.ok() && (!press->request_id.starts_with("req_") ||
                     !press->identity.starts_with("slack:") || press->choice.empty())) {
    __builtin_trap();
  }
  return 0;
}
