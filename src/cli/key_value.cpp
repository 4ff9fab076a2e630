#include "cli/key_value.hpp"

#include <boost/json/parse.hpp>

namespace countersign {

Result<std::pair<std::string, std::string>> SplitKeyValue(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    return Error::Invalid("'" + std::string(text) + "' is not KEY=VALUE (no '=')");
  }
  if (equals == 0) {
    return Error::Invalid("'" + std::string(text) + "' is not KEY=VALUE (empty key)");
  }
  return std::pair<std::string, std::string>(text.substr(0, equals), text.substr(equals + 1));
}

boost::json::value LooseJsonValue(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec);
  if (ec) return boost::json::value(text);
  return parsed;
}

Result<boost::json::object> ParseJsonObject(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec);
  if (ec) return Error::Invalid("not valid JSON: " + ec.message());
  if (!parsed.is_object()) return Error::Invalid("not a JSON object");
  return std::move(parsed.get_object());
}

}  // namespace countersign
