// AccessLog: the line `--access-log on` writes for each HTTP request, on spdlog's "access"
// logger: method, target, status, principal and duration ("GET /v1/requests?status=pending 200
// alice 1.4ms").
//
// The target is logged without secrets: the token of a one-click link (/l/TOKEN) and the value
// of every query parameter whose name looks like a credential (token, key, secret, signature,
// password, auth, code, state and the like) become "***". Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace countersign {

class AccessLog {
 public:
  static constexpr char kLoggerName[] = "access";

  // `target` (the request line's path and query) with its secrets replaced by "***".
  static std::string RedactedTarget(std::string_view target);
  // The log line. An empty principal (a public route, or credentials refused) is "-".
  static std::string Line(std::string_view method, std::string_view target, unsigned status,
                          std::string_view principal, std::chrono::nanoseconds took);
};

}  // namespace countersign
