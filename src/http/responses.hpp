// Building responses: JSON bodies and the error shape of DESIGN.md.
#pragma once

#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "http/beast.hpp"

namespace countersign {

HttpResponse JsonResponse(http::status status, const boost::json::value& body);
HttpResponse TextResponse(http::status status, std::string body, std::string_view content_type);
// {"error": {"code", "message"}} with the status for error.code; 409 adds "request", 401 adds
// WWW-Authenticate, 429 adds Retry-After.
HttpResponse ErrorResponse(const Error& error);
http::status HttpStatusFor(ErrorCode code);

// Parses a JSON request body: 415 unless the content type is JSON, 400 with the parser's
// message when malformed. An empty body parses as an empty object when `allow_empty`.
Result<boost::json::value> ParseJsonBody(const HttpRequest& request, bool allow_empty);

}  // namespace countersign
