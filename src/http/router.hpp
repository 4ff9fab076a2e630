// Router: maps method and path pattern ("/v1/requests/{id}/wait") to a handler coroutine.
//
// Route() parses the target (percent-decoding path segments and query parameters),
// authenticates when the route asks for it, and answers 404 for unknown paths and 405 (with
// Allow) for a known path with another method. A stream route (AddStream) takes the
// connection over instead of answering: its handler either refuses with an error, answered
// like any other, or returns the StreamUpgrade the server then runs, which for an
// authenticated route can re-check the request's credentials later. A handler that waits long
// may defer its answer (RequestContext::deferred), or stream it (RequestContext::streamed).
// Routes are added before serving starts; Route() is then safe to call from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "engine/gateway.hpp"
#include "http/beast.hpp"
#include "http/request_context.hpp"
#include "http/stream_upgrade.hpp"

namespace countersign {

class Router {
 public:
  using Handler = std::function<asio::awaitable<HttpResponse>(RequestContext&)>;
  // Checks a stream request (after authentication, when the route asks for it) and returns
  // the stream to run, or the error to answer with. Runs on the connection's strand.
  using StreamHandler = std::function<asio::awaitable<Result<StreamUpgrade>>(RequestContext&)>;
  enum class Access { kPublic, kAuthenticated };

  // What a request routes to: a response to write, an answer that waits, or (stream
  // routes) a stream to run.
  struct Routed {
    HttpResponse response;
    std::shared_ptr<DeferredAnswer> deferred;  // set: its answer is the response
    std::function<void()> abandon;             // RequestContext::abandon (with `streamed`)
    std::optional<StreamUpgrade> upgrade;      // set: `response` is unused
    // RequestContext::streamed; set: `response` is unused.
    std::function<asio::awaitable<void>(ResponseStream&)> streamed;
    // Who the route authenticated (Actor::name), for the access log; empty for a public route
    // or refused credentials.
    std::string principal;
  };

  // A token the authenticator does not hold in memory is looked up on `gateway`'s read
  // executor, never on the network thread; without a gateway (unit tests), in place.
  explicit Router(Authenticator& authenticator, Gateway* gateway = nullptr)
      : authenticator_(authenticator), gateway_(gateway) {}

  void Add(http::verb method, std::string pattern, Access access, Handler handler);
  void AddStream(http::verb method, std::string pattern, Access access, StreamHandler handler);

  // `peer`: the client's address, for the handlers (RequestContext::peer).
  asio::awaitable<Routed> Route(const HttpRequest& request, asio::ip::address peer = {});

 private:
  struct RouteEntry {
    http::verb method;
    std::vector<std::string> segments;  // "{name}" captures one segment
    Access access;
    Handler handler;  // exactly one of the two is set
    StreamHandler stream_handler;
  };

  Authenticator& authenticator_;
  Gateway* gateway_;
  std::vector<RouteEntry> routes_;
};

}  // namespace countersign
