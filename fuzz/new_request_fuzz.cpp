// Fuzzes what POST /v1/requests does with its body before the store: ParseJsonBody,
// ParseNewRequest (engine/new_request.hpp) and RequestBuilder::Build under the built-in
// policies (engine/request_builder.hpp), which checks every field's meaning.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/request_json.hpp"
#include "engine/new_request.hpp"
#include "engine/request_builder.hpp"
#include "http/responses.hpp"
#include "policy/policy_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const PolicySet policies;
  static const RequestBuilder builder(std::chrono::seconds(300), std::chrono::seconds(86400));
  HttpRequest request{http::verb::post, "/v1/requests", 11};
  request.set(http::field::content_type, "application/json");
  request.body().assign(reinterpret_cast<const char*>(data), size);
  auto body = ParseJsonBody(request, false);
  if (!body.ok()) return 0;
  auto input = ParseNewRequest(body.value());
  if (!input.ok()) return 0;
  Actor actor;
  actor.name = input->requester.empty() ? "agent" : input->requester;
  RequestBuilder::Route(actor, input.value(), policies);
  const TimePoint now = FromUnixMillis(1700000000000);
  auto built = builder.Build(actor, input.value(), policies, "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V", now);
  if (!built.ok()) return 0;
  RequestToJson(built->request);
  return 0;
}
