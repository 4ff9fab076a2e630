// Fuzzes what can be reached of POST /v1/verifications from outside the handler: the body
// through ParseJsonBody, and its webhook_url and timeline_url (or the raw bytes) through
// AisocHostAllowList::Check (compat/aisoc_host_allow_list.hpp), which decides where the server
// will POST. The body's field checks (ParseVerification) are private to aisoc_handlers.cpp.
// Invariant: an accepted URL is http(s).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compat/aisoc_host_allow_list.hpp"
#include "http/responses.hpp"

namespace {

void CheckUrl(const countersign::AisocHostAllowList& hosts, std::string_view url) {
  if (!hosts.Check("webhook_url", url).ok()) return;
  std::string scheme(url.substr(0, url.find(':')));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  if (scheme != "https" && scheme != "http") __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const AisocHostAllowList hosts(
      {"hooks.slack.com", "*.webhook.office.com", "127.0.0.1", "localhost", "::1"});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckUrl(hosts, text);

  HttpRequest request{http::verb::post, "/v1/verifications", 11};
  request.set(http::field::content_type, "application/json");
  request.body() = std::string(text);
  auto body = ParseJsonBody(request, false);
  if (!body.ok() || !body->is_object()) return 0;
  for (const char* key : {"webhook_url", "timeline_url"}) {
    const auto* field = body->get_object().if_contains(key);
    if (field && field->is_string()) CheckUrl(hosts, field->get_string());
  }
  return 0;
}
