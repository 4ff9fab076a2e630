// Fuzzes CanonicalJson (core/canonical_json.hpp), the bytes the audit chain and the
// idempotency and arguments hashes are taken over. Invariants: its output parses back to the
// same value and canonicalises to the same bytes (doubles: see json_equivalence.hpp), and
// AppendJsonString escapes any bytes exactly as Boost.JSON's serialiser does (and, when they are
// UTF-8, as Boost.JSON parses them back).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/canonical_json.hpp"
#include "json_equivalence.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string quoted;
  AppendJsonString(text, quoted);
  if (quoted != boost::json::serialize(boost::json::string(text))) __builtin_trap();
  boost::system::error_code ec;
  const boost::json::value as_string = boost::json::parse(quoted, ec);
  if (!ec && (!as_string.is_string() || as_string.get_string() != text)) __builtin_trap();

  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !fuzz::AllNumbersFinite(value)) return 0;
  const std::string canonical = CanonicalJson(value);
  const boost::json::value again = boost::json::parse(canonical, ec);
  if (ec || !fuzz::EquivalentJson(value, again)) __builtin_trap();
  // Equal values, equal bytes; only a double Boost.JSON reads back one ulp away may differ.
  if (value == again && CanonicalJson(again) != canonical) __builtin_trap();
  return 0;
}
