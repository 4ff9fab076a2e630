// `--log-format json`: every line the formatter writes parses as one JSON object with the
// fields the docs name, whatever bytes the message holds.
#include "server/json_log_formatter.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>

namespace countersign {
namespace {

std::vector<boost::json::object> Lines(const std::string& text) {
  std::vector<boost::json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    EXPECT_TRUE(parsed.is_object()) << line;
    if (!ec && parsed.is_object()) out.push_back(parsed.as_object());
  }
  return out;
}

TEST(JsonLogFormatterTest, EachMessageIsOneParsableLineWithItsFieldsEscaped) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger access("access", sink);
  access.set_formatter(std::make_unique<JsonLogFormatter>());
  spdlog::logger unnamed("", sink);
  unnamed.set_formatter(std::make_unique<JsonLogFormatter>());

  access.info("GET /v1/requests 200 alice 1.2ms");
  unnamed.warn("quote \" backslash \\ newline \n tab \t bell \x07 done");
  unnamed.error(std::string("not UTF-8: \xff\xfe end"));

  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(lines[0].at("logger").as_string(), "access");
  EXPECT_EQ(lines[0].at("level").as_string(), "info");
  EXPECT_EQ(lines[0].at("msg").as_string(), "GET /v1/requests 200 alice 1.2ms");
  const std::string ts(lines[0].at("ts").as_string());
  EXPECT_EQ(ts.size(), 24u) << ts;  // 2026-11-21T09:30:49.647Z
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_EQ(lines[1].at("logger").as_string(), JsonLogFormatter::kDefaultLogger);
  EXPECT_EQ(lines[1].at("level").as_string(), "warning");
  EXPECT_EQ(lines[1].at("msg").as_string(),
            "quote \" backslash \\ newline \n tab \t bell \x07 done");
  EXPECT_EQ(lines[2].at("level").as_string(), "error");
  EXPECT_EQ(lines[2].at("msg").as_string(), "not UTF-8: \xEF\xBF\xBD\xEF\xBF\xBD end");
}

}  // namespace
}  // namespace countersign
