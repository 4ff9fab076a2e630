#include "server/json_log_formatter.hpp"

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/clock.hpp"
#include "core/time_format.hpp"
#include "core/utf8_text.hpp"

namespace countersign {

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto level = spdlog::level::to_string_view(msg.level);
  const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
  const std::string_view text(msg.payload.data(), msg.payload.size());
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
  // boost::json escapes quotes, backslashes and control characters, but passes bytes through:
  // ValidUtf8 first, so that a message quoting a client's bytes still makes a JSON line.
  boost::json::object line;
  line["ts"] = FormatTime(FromUnixMillis(ms.count()));
  line["level"] = std::string_view(level.data(), level.size());
  line["logger"] = logger.empty() ? std::string(kDefaultLogger) : ValidUtf8(logger, 256);
  line["msg"] = ValidUtf8(text, 3 * text.size() + 3);  // U+FFFD is 3 bytes: never cut
  const std::string json = boost::json::serialize(line);
  dest.append(json.data(), json.data() + json.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace countersign
