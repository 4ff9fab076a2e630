// Router: maps method and path pattern ("/v1/requests/{id}/wait") to a handler coroutine.
//
// Dispatch() parses the target (percent-decoding path segments and query parameters),
// authenticates when the route asks for it, and answers 404 for unknown paths and 405 (with
// Allow) for a known path with another method. Routes are added before serving starts;
// Dispatch() is then safe to call from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "http/beast.hpp"
#include "http/request_context.hpp"

namespace countersign {

class Router {
 public:
  using Handler = std::function<asio::awaitable<HttpResponse>(RequestContext&)>;
  enum class Access { kPublic, kAuthenticated };

  explicit Router(Authenticator& authenticator) : authenticator_(authenticator) {}

  void Add(http::verb method, std::string pattern, Access access, Handler handler);

  asio::awaitable<HttpResponse> Dispatch(const HttpRequest& request);

 private:
  struct Route {
    http::verb method;
    std::vector<std::string> segments;  // "{name}" captures one segment
    Access access;
    Handler handler;
  };

  Authenticator& authenticator_;
  std::vector<Route> routes_;
};

}  // namespace countersign
