// Fuzzes the Hermes adapter's bodies (compat/hermes_bodies.hpp): POST /confirm through
// ParseJsonBody and ParseHermesSubmission, the approve/deny body through
// ParseHermesResolution (which never fails), and HermesInteger, Python's int() on text.
// Invariant: a submission's timeout is always clamped to 30-3600 seconds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compat/hermes_bodies.hpp"
#include "http/responses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseHermesResolution(text, "approver");
  HermesInteger(text);

  HttpRequest request{http::verb::post, "/confirm", 11};
  request.set(http::field::content_type, "application/json");
  request.body() = std::string(text);
  auto body = ParseJsonBody(request, false);
  if (!body.ok()) return 0;
  auto submission = ParseHermesSubmission(body.value());
  if (submission.ok() && submission->timeout_seconds) {
    const int64_t timeout = *submission->timeout_seconds;
    if (timeout < kHermesMinTimeoutSeconds || timeout > kHermesMaxTimeoutSeconds) {
      __builtin_trap();
    }
  }
  return 0;
}
