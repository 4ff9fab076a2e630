// Fuzzes what countersign makes of a model's answer (engine/model_assistant.hpp): the judge's
// verdict read from any text, and ValidUtf8 (core/utf8_text.hpp), whose output must always be
// UTF-8 that JSON can carry and within its limit, whatever bytes come in.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/utf8_text.hpp"
#include "engine/model_assistant.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto verdict = ModelAssistant::ReadVerdict(text);
  if (verdict.ok()) {
    if (verdict->confidence < 0 || verdict->confidence > 1) __builtin_trap();
    if (verdict->reason.size() > 500) __builtin_trap();
  }
  const size_t limit = size % 64 + 3;
  const std::string safe = ValidUtf8(text, limit);
  if (safe.size() > limit) __builtin_trap();
  boost::system::error_code ec;
  const std::string encoded = boost::json::serialize(boost::json::value(safe));
  boost::json::value back = boost::json::parse(encoded, ec);
  if (ec || !back.is_string() || back.get_string() != safe) __builtin_trap();
  return 0;
}
