// ApiClient: the countersign v1 JSON API as the CLI commands see it.
//
// Every answer of the v1 API is a JSON object. A 2xx answer comes back as that object; any
// other answer becomes an Error whose code follows the HTTP status (404 → kNotFound, 503 →
// kUnavailable, ...) and whose message is the server's own `error.message`, so commands can
// print it as is. Not thread-safe; cheap to copy.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "cli/http_client.hpp"
#include "core/result.hpp"

namespace countersign {

// An answer of any status, with its JSON body.
struct ApiAnswer {
  int status = 0;
  boost::json::object body;
};

class ApiClient {
 public:
  explicit ApiClient(HttpClient http) : http_(std::move(http)) {}

  Result<boost::json::object> Get(std::string_view target,
                                  std::chrono::seconds timeout = std::chrono::seconds(75)) const;
  Result<boost::json::object> Post(std::string_view target, const boost::json::object& body) const;
  Result<boost::json::object> Delete(std::string_view target) const;
  // A POST whose refusals the caller prints as they came (`receipt verify --consume --json`):
  // any status with a JSON object body is an answer; the error as Post() gives it otherwise.
  Result<ApiAnswer> PostForAnswer(std::string_view target, const boost::json::object& body) const;
  // The error Post() would give for `answer` (not a 2xx).
  Error ErrorFor(const ApiAnswer& answer) const;

  const std::string& base_url() const { return http_.base_url(); }

 private:
  Result<boost::json::object> Send(std::string_view method, std::string_view target,
                                   const std::string* body, std::chrono::seconds timeout) const;

  HttpClient http_;
};

}  // namespace countersign
