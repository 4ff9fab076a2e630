// AgentHttpServer: the small HTTP/1.1 server `countersign mcp proxy --upstream-url` listens
// for the agent with, a thread per connection.
//
// The proxy's work blocks (it long-polls the gateway while a person decides, and reads the
// upstream's answers as they come), so each connection runs on a thread of its own, with its
// own io_context so that every read and write has a deadline (Beast's tcp_stream times out
// asynchronous operations only). Limits: `max_connections` at once (one more is answered 503
// and closed), the request body (413), the header block (431), an idle timeout between
// requests and a read timeout within one, a write timeout on every write. Requests on one
// connection are served one after another; a reply that streams its body (OpenStream) is the
// connection's last.
//
// The handler gets each request and answers it through its Reply, once: Respond() a whole
// answer, or OpenStream() then Write() the body piece by piece. A handler that does neither
// gets a 500. It runs on the connection's thread and may block. Serve() accepts until the
// process ends. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/listen_address.hpp"
#include "core/result.hpp"

namespace countersign {

struct AgentHttpServerOptions {
  std::size_t max_connections = 64;
  std::size_t body_limit = 10 * 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds idle_timeout{60};   // between requests on a connection
  std::chrono::seconds read_timeout{30};   // a request, once it has begun
  std::chrono::seconds write_timeout{30};  // each write
};

class AgentHttpServer {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  struct Request {
    std::string method;
    std::string path;                            // the target without its query
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };

  class Reply {
   public:
    virtual ~Reply() = default;
    // The whole answer. False when the connection failed.
    virtual bool Respond(int status, const Fields& fields, const std::string& body) = 0;
    // A 200 whose body runs until the connection closes ("Connection: close", no length):
    // writes the head. False when the connection failed.
    virtual bool OpenStream(const Fields& fields) = 0;
    // The next piece of an open stream's body. False when the connection failed (the client
    // left, or stopped reading); nothing more should be written.
    virtual bool Write(const std::string& text) = 0;
  };

  using Handler = std::function<void(const Request& request, Reply& reply)>;

  AgentHttpServer(Handler handler, AgentHttpServerOptions options);
  ~AgentHttpServer();
  AgentHttpServer(const AgentHttpServer&) = delete;
  AgentHttpServer& operator=(const AgentHttpServer&) = delete;

  // Binds and listens (port 0 picks a free port); the bound address as HOST:PORT (an IPv6
  // host in brackets).
  Result<std::string> Listen(const ListenAddress& address);
  bool loopback() const { return loopback_; }

  // Accepts connections on the calling thread, one thread each; returns only when accepting
  // fails for good.
  void Serve();

 private:
  struct Listener;
  struct Connection;

  void Run(Connection& connection);

  Handler handler_;
  const AgentHttpServerOptions options_;
  std::unique_ptr<Listener> listener_;
  bool loopback_ = true;
  std::atomic<std::size_t> live_{0};
};

}  // namespace countersign
