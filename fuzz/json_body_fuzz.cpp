// Fuzzes ParseJsonBody (http/responses.hpp), which every JSON endpoint runs first: Boost.JSON's
// parse, the duplicate-key refusal (FindDuplicateKey) and the finite-number check.
// Invariants: an accepted body has no duplicate key, and its canonical JSON parses back to the
// same value, whose canonical JSON is the same bytes (doubles: see json_equivalence.hpp).
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>

#include "core/canonical_json.hpp"
#include "core/json_duplicate_keys.hpp"
#include "http/responses.hpp"
#include "json_equivalence.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  HttpRequest request{http::verb::post, "/v1/requests", 11};
  request.set(http::field::content_type, "application/json");
  request.body().assign(reinterpret_cast<const char*>(data), size);
  auto body = ParseJsonBody(request, true);
  if (!body.ok()) return 0;
  if (FindDuplicateKey(request.body())) __builtin_trap();
  const std::string canonical = CanonicalJson(body.value());
  boost::system::error_code ec;
  const boost::json::value again = boost::json::parse(canonical, ec);
  if (ec || !fuzz::EquivalentJson(body.value(), again)) __builtin_trap();
  // Equal values, equal bytes; only a double Boost.JSON reads back one ulp away may differ.
  if (body.value() == again && CanonicalJson(again) != canonical) __builtin_trap();
  return 0;
}
