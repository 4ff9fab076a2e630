#include "http/responses.hpp"

#include <cmath>

#include <boost/beast/core/string.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/json_duplicate_keys.hpp"
#include "core/request_json.hpp"

namespace countersign {

HttpResponse TextResponse(http::status status, std::string body, std::string_view content_type) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse JsonResponse(http::status status, const boost::json::value& body) {
  std::string text = boost::json::serialize(body);
  text.push_back('\n');
  return TextResponse(status, std::move(text), "application/json");
}

http::status HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
      return http::status::bad_request;
    case ErrorCode::kUnauthorized:
      return http::status::unauthorized;
    case ErrorCode::kForbidden:
      return http::status::forbidden;
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kConflict:
      return http::status::conflict;
    case ErrorCode::kTooLarge:
      return http::status::payload_too_large;
    case ErrorCode::kUnsupportedMediaType:
      return http::status::unsupported_media_type;
    case ErrorCode::kInvalid:
      return http::status::unprocessable_entity;
    case ErrorCode::kRateLimited:
      return http::status::too_many_requests;
    case ErrorCode::kUnavailable:
      return http::status::service_unavailable;
    case ErrorCode::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

HttpResponse ErrorResponse(const Error& error) {
  boost::json::object body{
      {"error", {{"code", ErrorCodeName(error.code)}, {"message", error.message}}}};
  if (!error.field.empty()) body["error"].as_object()["field"] = error.field;
  if (error.current) body["request"] = RequestToJson(*error.current);
  HttpResponse res = JsonResponse(HttpStatusFor(error.code), body);
  SetErrorHeaders(res, error);
  return res;
}

void SetErrorHeaders(HttpResponse& res, const Error& error) {
  if (error.code == ErrorCode::kUnauthorized) {
    res.set(http::field::www_authenticate, "Bearer realm=\"countersign\"");
  }
  if (error.code == ErrorCode::kRateLimited || error.code == ErrorCode::kUnavailable) {
    res.set(http::field::retry_after,
            std::to_string(error.retry_after_seconds > 0 ? error.retry_after_seconds : 1));
  }
}

HttpResponse HtmlPageResponse(http::status status, std::string html) {
  HttpResponse res = TextResponse(status, std::move(html), "text/html; charset=utf-8");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy",
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
          "frame-ancestors 'none'; base-uri 'none'");
  res.set("X-Frame-Options", "DENY");
  return res;
}

namespace {

// Boost.JSON reads 1e400 as infinity, which it would later write as a token no JSON parser
// accepts; such numbers are refused at the door.
bool AllNumbersFinite(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& item : v.get_array()) {
        if (!AllNumbersFinite(item)) return false;
      }
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!AllNumbersFinite(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

Result<boost::json::value> ParseJsonBody(const HttpRequest& request, bool allow_empty) {
  if (request.body().empty()) {
    if (allow_empty) return boost::json::value(boost::json::object());
    return Error::Malformed("the body must be a JSON object");
  }
  std::string_view type = request[http::field::content_type];
  const auto semicolon = type.find(';');
  if (semicolon != std::string_view::npos) type = type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!beast::iequals(type, "application/json")) {
    return Error{ErrorCode::kUnsupportedMediaType, "Content-Type must be application/json",
                 nullptr};
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(request.body(), ec);
  if (ec) return Error::Malformed("malformed JSON: " + ec.message());
  // Parsers disagree on which of two equal keys wins: what an approver is shown must be what
  // the agent sent, with one meaning.
  if (auto duplicate = FindDuplicateKey(request.body())) {
    if (duplicate->size() > 64) *duplicate = duplicate->substr(0, 64) + "...";
    return Error::Malformed("duplicate key \"" + *duplicate +
                            "\" in a JSON object: each key may appear once");
  }
  if (!AllNumbersFinite(value)) {
    return Error::Malformed("numbers must be finite (1e400 and the like are out of range)");
  }
  return value;
}

}  // namespace countersign
