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
// The headers `error` calls for in any error shape: WWW-Authenticate on 401, Retry-After on
// 429 and 503.
void SetErrorHeaders(HttpResponse& res, const Error& error);
// One of the server's own HTML pages (link and confirm pages): no Referer (their URLs may
// carry a token), no sniffing, no framing, and a CSP that allows inline styles and forms that
// post back to this server, nothing else.
HttpResponse HtmlPageResponse(http::status status, std::string html);
http::status HttpStatusFor(ErrorCode code);

// Parses a JSON request body: 415 unless the content type is JSON, 400 with the parser's
// message when malformed. An empty body parses as an empty object when `allow_empty`.
Result<boost::json::value> ParseJsonBody(const HttpRequest& request, bool allow_empty);

}  // namespace countersign
