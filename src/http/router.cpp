#include "http/router.hpp"

#include <boost/url/parse.hpp>

#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

std::vector<std::string> SplitPattern(const std::string& pattern) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) slash = pattern.size();
    out.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool IsCapture(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(http::verb method, std::string pattern, Access access, Handler handler) {
  routes_.push_back({method, SplitPattern(pattern), access, std::move(handler), nullptr});
}

void Router::AddStream(http::verb method, std::string pattern, Access access,
                       StreamHandler handler) {
  routes_.push_back({method, SplitPattern(pattern), access, nullptr, std::move(handler)});
}

asio::awaitable<Router::Routed> Router::Route(const HttpRequest& request, asio::ip::address peer) {
  Routed routed;
  auto url = boost::urls::parse_origin_form(request.target());
  if (!url) {
    routed.response = ErrorResponse(Error::Malformed("malformed request target"));
    co_return routed;
  }
  std::vector<std::string> segments;
  for (auto segment : url->segments()) segments.push_back(segment);
  if (segments.empty()) segments.push_back("");

  const RouteEntry* match = nullptr;
  std::string allow;
  std::map<std::string, std::string, std::less<>> captures;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string, std::less<>> found;
    bool same = true;
    for (size_t i = 0; i < segments.size() && same; ++i) {
      if (IsCapture(route.segments[i])) {
        if (segments[i].empty()) same = false;
        found[route.segments[i].substr(1, route.segments[i].size() - 2)] = segments[i];
      } else {
        same = route.segments[i] == segments[i];
      }
    }
    if (!same) continue;
    // HEAD is answered by the GET route (not a stream's): the server sends the headers only.
    const bool head_as_get = request.method() == http::verb::head &&
                             route.method == http::verb::get && !route.stream_handler;
    if (route.method != request.method() && !head_as_get) {
      if (!allow.empty()) allow += ", ";
      allow += std::string(http::to_string(route.method));
      continue;
    }
    match = &route;
    captures = std::move(found);
    break;
  }
  if (!match) {
    if (!allow.empty()) {
      HttpResponse res =
          ErrorResponse(Error{ErrorCode::kMalformed, "method not allowed; use " + allow, nullptr});
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, allow);
      routed.response = std::move(res);
      co_return routed;
    }
    routed.response = ErrorResponse(Error::NotFound("no such endpoint"));
    co_return routed;
  }

  RequestContext ctx{request, std::move(captures), {}, {}, {}, {}, {}};
  ctx.peer = peer;
  for (auto param : url->params()) ctx.query[param.key] = param.value;
  if (match->access == Access::kAuthenticated) {
    auto actor = co_await AuthenticateOffThread(authenticator_, gateway_,
                                                std::string(request[http::field::authorization]));
    if (!actor.ok()) {
      routed.response = ErrorResponse(actor.error());
      co_return routed;
    }
    ctx.actor = std::move(actor).value();
    routed.principal = ctx.actor.name;
  }
  if (match->stream_handler) {
    auto upgrade = co_await match->stream_handler(ctx);
    if (!upgrade.ok()) {
      routed.response = ErrorResponse(upgrade.error());
    } else {
      routed.upgrade = std::move(upgrade).value();
      if (match->access == Access::kAuthenticated) {
        routed.upgrade->authorized = StreamCredentialCheck(
            authenticator_, gateway_, std::string(request[http::field::authorization]));
      }
    }
    co_return routed;
  }
  routed.response = co_await match->handler(ctx);
  routed.deferred = std::move(ctx.deferred);
  routed.abandon = std::move(ctx.abandon);
  routed.streamed = std::move(ctx.streamed);
  co_return routed;
}

}  // namespace countersign
