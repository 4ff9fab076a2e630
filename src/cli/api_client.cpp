#include "cli/api_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace countersign {
namespace {

ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kMalformed;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 413:
      return ErrorCode::kTooLarge;
    case 415:
      return ErrorCode::kUnsupportedMediaType;
    case 429:
      return ErrorCode::kRateLimited;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      if (status >= 400 && status < 500) return ErrorCode::kInvalid;
      return ErrorCode::kInternal;
  }
}

const boost::json::string* StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr ? value->if_string() : nullptr;
}

// The server's error, worded for a person: its message, then what kind of refusal it was.
Error ErrorFromResponse(const HttpResponse& response, const std::string& base_url) {
  std::string message;
  std::string code_name;
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(response.body, ec);
  const boost::json::object* body = ec ? nullptr : parsed.if_object();
  const auto* error = body != nullptr ? body->if_contains("error") : nullptr;
  if (error != nullptr && error->is_object()) {
    if (const auto* m = StringAt(error->get_object(), "message")) message = std::string(*m);
    if (const auto* c = StringAt(error->get_object(), "code")) code_name = std::string(*c);
  }
  if (message.empty()) {
    message = "countersign at " + base_url + " answered HTTP " + std::to_string(response.status);
    std::string snippet = response.body.substr(0, 200);
    if (!snippet.empty()) message += ": " + snippet;
  } else {
    message += " (HTTP " + std::to_string(response.status);
    if (!code_name.empty()) message += " " + code_name;
    message += ")";
  }
  // A 409 carries the request as it now stands, so say what it became.
  const auto* current = body != nullptr ? body->if_contains("request") : nullptr;
  if (current != nullptr && current->is_object()) {
    const auto* id = StringAt(current->get_object(), "id");
    const auto* status = StringAt(current->get_object(), "status");
    if (id != nullptr && status != nullptr) {
      message += "; " + std::string(*id) + " is now " + std::string(*status);
    }
  }
  if (response.status == 401) {
    message += "; pass a valid token with --token, --token-file or COUNTERSIGN_TOKEN";
  }
  return Error{CodeForStatus(response.status), std::move(message), nullptr};
}

}  // namespace

Result<boost::json::object> ApiClient::Get(std::string_view target,
                                           std::chrono::seconds timeout) const {
  return Send("GET", target, nullptr, timeout);
}

Result<boost::json::object> ApiClient::Post(std::string_view target,
                                            const boost::json::object& body) const {
  const std::string text = boost::json::serialize(body);
  return Send("POST", target, &text, std::chrono::seconds(75));
}

Result<boost::json::object> ApiClient::Delete(std::string_view target) const {
  return Send("DELETE", target, nullptr, std::chrono::seconds(75));
}

Result<ApiAnswer> ApiClient::PostForAnswer(std::string_view target,
                                           const boost::json::object& body) const {
  const std::string text = boost::json::serialize(body);
  auto response = http_.Call("POST", target, &text, std::chrono::seconds(75));
  if (!response.ok()) return std::move(response).error();
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(response->body, ec);
  if (ec || !parsed.is_object()) {
    if (response->status < 200 || response->status >= 300) {
      return ErrorFromResponse(*response, base_url());
    }
    return Error::Internal("countersign at " + base_url() + " answered POST " +
                           std::string(target) + " with something that is not a JSON object");
  }
  return ApiAnswer{response->status, std::move(parsed.get_object())};
}

Error ApiClient::ErrorFor(const ApiAnswer& answer) const {
  HttpResponse response;
  response.status = answer.status;
  response.body = boost::json::serialize(answer.body);
  return ErrorFromResponse(response, base_url());
}

Result<boost::json::object> ApiClient::Send(std::string_view method, std::string_view target,
                                            const std::string* body,
                                            std::chrono::seconds timeout) const {
  auto response = http_.Call(method, target, body, timeout);
  if (!response.ok()) return std::move(response).error();
  if (response->status < 200 || response->status >= 300) {
    return ErrorFromResponse(*response, base_url());
  }
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(response->body, ec);
  if (ec || !parsed.is_object()) {
    return Error::Internal("countersign at " + base_url() + " answered " + std::string(method) +
                           " " + std::string(target) + " with something that is not a JSON object");
  }
  return std::move(parsed.get_object());
}

}  // namespace countersign
