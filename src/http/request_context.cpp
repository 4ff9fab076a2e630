#include "http/request_context.hpp"

#include <charconv>

#include "core/canonical_json.hpp"
#include "core/sha256.hpp"

namespace countersign {

Status TakeIdempotencyKey(const RequestContext& ctx, const boost::json::value& body,
                          std::string& key, std::string& body_sha256) {
  std::string_view header_key = ctx.request["Idempotency-Key"];
  if (!header_key.empty()) {
    if (!key.empty() && key != header_key) {
      return Error::Invalid("Idempotency-Key header and idempotency_key field differ");
    }
    key = header_key;
  }
  // Hashing the canonical body is only needed to recognise a replay.
  if (!key.empty()) body_sha256 = Sha256Hex(CanonicalJson(body));
  return Ok();
}

Result<int64_t> IntParam(const RequestContext& ctx, std::string_view name, int64_t fallback,
                         int64_t min, int64_t max) {
  std::string_view text = ctx.Query(name);
  if (text.empty()) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Error::Malformed(std::string(name) + " must be an integer");
  }
  if (value < min || value > max) {
    return Error::Invalid(std::string(name) + " must be between " + std::to_string(min) + " and " +
                          std::to_string(max));
  }
  return value;
}

}  // namespace countersign
