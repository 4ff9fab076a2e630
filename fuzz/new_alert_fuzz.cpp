// Fuzzes what POST /v1/alerts does with its body before the store: ParseJsonBody,
// ParseNewAlert and CheckNewAlert (engine/new_alert.hpp), then the request it asks for through
// RequestBuilder::Build under the built-in policies, and the conversation it starts.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/conversation_json.hpp"
#include "core/request_json.hpp"
#include "engine/new_alert.hpp"
#include "engine/request_builder.hpp"
#include "http/responses.hpp"
#include "policy/policy_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const PolicySet policies;
  static const RequestBuilder builder(std::chrono::seconds(300), std::chrono::seconds(86400));
  HttpRequest request{http::verb::post, "/v1/alerts", 11};
  request.set(http::field::content_type, "application/json");
  request.body().assign(reinterpret_cast<const char*>(data), size);
  auto body = ParseJsonBody(request, false);
  if (!body.ok()) return 0;
  auto alert = ParseNewAlert(body.value());
  if (!alert.ok()) return 0;
  if (!CheckNewAlert(alert.value()).ok()) return 0;
  Actor actor;
  actor.name = "siem";
  NewRequest input = alert->ToNewRequest();
  const TimePoint now = FromUnixMillis(1700000000000);
  auto built = builder.Build(actor, input, policies, "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", now);
  if (!built.ok()) return 0;
  RequestToJson(built->request);
  // What the store keeps of the conversation reads back as it was written (the properties
  // aside: a double need not survive Boost.JSON's text exactly, see docs/fuzzing.md).
  Conversation c = alert->ToConversation(built->request.id, "default", now);
  auto back = ConversationFromJson(ConversationToJson(c));
  if (!back.ok()) __builtin_trap();
  c.alert.properties.clear();
  back->alert.properties.clear();
  if (!(back.value() == c)) __builtin_trap();
  return 0;
}
