// JsonLogFormatter: spdlog's lines as JSON (`--log-format json`), one object a line:
//   {"ts":"2026-11-21T09:30:49.647Z","level":"info","logger":"countersign","msg":"..."}
// for log collectors that parse JSON. ts is UTC with milliseconds; logger is the spdlog
// logger's name ("access" for the access log, "countersign" for the default logger, which has
// none); msg is the message as the text format shows it. Every string is escaped as JSON
// requires, and bytes that are not UTF-8 become U+FFFD, so each line parses. Stateless apart
// from spdlog's buffer; spdlog calls it under its sink's lock.
#pragma once

#include <memory>

#include <spdlog/formatter.h>

namespace countersign {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  static constexpr char kDefaultLogger[] = "countersign";

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace countersign
