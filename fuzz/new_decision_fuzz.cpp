// Fuzzes what POST /v1/requests/{id}/decisions does with its body: ParseJsonBody, then
// ParseNewDecision (engine/new_request.hpp), the decision input the Gateway acts on; and
// ParseNewGrant, which POST /v1/grants reads the same way. Invariants: only an object is a
// grant, and a grant given with a decision is read as one given alone.
#include <cstddef>
#include <cstdint>

#include "engine/new_request.hpp"
#include "http/responses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  HttpRequest request{http::verb::post, "/v1/requests/req_1/decisions", 11};
  request.set(http::field::content_type, "application/json");
  request.body().assign(reinterpret_cast<const char*>(data), size);
  auto body = ParseJsonBody(request, false);
  if (!body.ok()) return 0;
  if (ParseNewGrant(body.value()).ok() && !body->is_object()) __builtin_trap();
  auto decision = ParseNewDecision(body.value());
  // A grant given with a decision is read by the same rules as one given alone.
  if (decision.ok() && decision->grant && !ParseNewGrant(body->get_object().at("grant")).ok()) {
    __builtin_trap();
  }
  return 0;
}
