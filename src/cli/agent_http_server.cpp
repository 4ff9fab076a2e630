#include "cli/agent_http_server.hpp"

#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cli/run_to_completion.hpp"
#include "cli/worker_threads.hpp"
#include "core/ascii.hpp"
#include "http/beast.hpp"

namespace countersign {
namespace {

constexpr const char* kServerName = "countersign-mcp-proxy";
// After a failed accept (out of descriptors, typically), so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptPause{100};

// Writes `message` within `timeout`; false when the connection failed.
template <typename Message>
bool WriteWithin(asio::io_context& ioc, beast::tcp_stream& stream, Message& message,
                 std::chrono::seconds timeout) {
  beast::error_code ec;
  stream.expires_after(timeout);
  http::async_write(stream, message, [&](const beast::error_code& e, std::size_t) { ec = e; });
  RunToCompletion(ioc);
  return !ec;
}

// One request's reply on its connection.
class ConnectionReply final : public AgentHttpServer::Reply {
 public:
  ConnectionReply(asio::io_context& ioc, beast::tcp_stream& stream, unsigned version,
                  bool keep_alive, std::chrono::seconds write_timeout)
      : ioc_(ioc),
        stream_(stream),
        version_(version),
        keep_alive_(keep_alive),
        write_timeout_(write_timeout) {}

  bool Respond(int status, const AgentHttpServer::Fields& fields,
               const std::string& body) override {
    if (used_) return false;
    used_ = true;
    http::response<http::string_body> response{static_cast<http::status>(status), version_};
    response.set(http::field::server, kServerName);
    for (const auto& [name, value] : fields) response.set(name, value);
    response.body() = body;
    response.keep_alive(keep_alive_);
    response.prepare_payload();
    ok_ = WriteWithin(ioc_, stream_, response, write_timeout_);
    return ok_;
  }

  bool OpenStream(const AgentHttpServer::Fields& fields) override {
    if (used_) return false;
    used_ = true;
    streamed_ = true;
    http::response<http::empty_body> head{http::status::ok, version_};
    head.set(http::field::server, kServerName);
    head.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : fields) head.set(name, value);
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{head};
    beast::error_code ec;
    stream_.expires_after(write_timeout_);
    http::async_write_header(stream_, serializer,
                             [&](const beast::error_code& e, std::size_t) { ec = e; });
    RunToCompletion(ioc_);
    ok_ = !ec;
    return ok_;
  }

  bool Write(const std::string& text) override {
    if (!streamed_ || !ok_) return false;
    beast::error_code ec;
    stream_.expires_after(write_timeout_);
    asio::async_write(stream_, asio::buffer(text),
                      [&](const beast::error_code& e, std::size_t) { ec = e; });
    RunToCompletion(ioc_);
    ok_ = !ec;
    return ok_;
  }

  bool used() const { return used_; }
  // Whether the connection can serve another request.
  bool reusable() const { return ok_ && !streamed_ && keep_alive_; }

 private:
  asio::io_context& ioc_;
  beast::tcp_stream& stream_;
  const unsigned version_;
  const bool keep_alive_;
  const std::chrono::seconds write_timeout_;
  bool used_ = false;
  bool streamed_ = false;
  bool ok_ = true;
};

}  // namespace

struct AgentHttpServer::Listener {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

struct AgentHttpServer::Connection {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
};

AgentHttpServer::AgentHttpServer(Handler handler, AgentHttpServerOptions options)
    : handler_(std::move(handler)), options_(options), listener_(std::make_unique<Listener>()) {}

AgentHttpServer::~AgentHttpServer() = default;

Result<std::string> AgentHttpServer::Listen(const ListenAddress& address) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) return Error::Invalid("--listen: '" + address.host + "' is not an IP address");
  const tcp::endpoint endpoint(ip, address.port);
  tcp::acceptor& acceptor = listener_->acceptor;
  const std::string where =
      "cannot listen on " + address.host + ":" + std::to_string(address.port) + ": ";
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return Error::Unavailable(where + ec.message());
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) return Error::Unavailable(where + ec.message());
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::Unavailable(where + ec.message());
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return Error::Unavailable(where + ec.message());
  loopback_ = bound.address().is_loopback();
  const std::string host = bound.address().to_string();
  return (bound.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(bound.port());
}

void AgentHttpServer::Serve() {
  WorkerThreads threads;
  for (;;) {
    auto connection = std::make_shared<Connection>();
    beast::error_code ec;
    listener_->acceptor.accept(connection->stream.socket(), ec);
    threads.Reap();
    if (ec) {
      if (!listener_->acceptor.is_open()) return;
      spdlog::warn("accepting an agent's connection failed: {}", ec.message());
      std::this_thread::sleep_for(kAcceptPause);
      continue;
    }
    if (live_.fetch_add(1) >= options_.max_connections) {
      live_.fetch_sub(1);
      http::response<http::string_body> busy{http::status::service_unavailable, 11};
      busy.set(http::field::server, kServerName);
      busy.set(http::field::content_type, "text/plain");
      busy.set(http::field::retry_after, "1");
      busy.body() = "too many connections\n";
      busy.keep_alive(false);
      busy.prepare_payload();
      (void)WriteWithin(connection->ioc, connection->stream, busy, options_.write_timeout);
      continue;
    }
    if (!threads.Spawn([this, connection] {
          Run(*connection);
          live_.fetch_sub(1);
        })) {
      live_.fetch_sub(1);
    }
  }
}

void AgentHttpServer::Run(Connection& connection) {
  beast::tcp_stream& stream = connection.stream;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    beast::error_code ec;
    // The idle timeout until the request begins, then the read timeout for the rest of it.
    stream.expires_after(options_.idle_timeout);
    http::async_read_some(stream, buffer, parser,
                          [&](const beast::error_code& e, std::size_t) { ec = e; });
    RunToCompletion(connection.ioc);
    if (!ec && !parser.is_done()) {
      stream.expires_after(options_.read_timeout);
      http::async_read(stream, buffer, parser,
                       [&](const beast::error_code& e, std::size_t) { ec = e; });
      RunToCompletion(connection.ioc);
    }
    if (ec) {
      http::status refusal = http::status::bad_request;
      if (ec == http::error::body_limit) {
        refusal = http::status::payload_too_large;
      } else if (ec == http::error::header_limit) {
        refusal = http::status::request_header_fields_too_large;
      } else if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
                 ec == asio::error::connection_reset || ec == asio::error::eof) {
        return;
      }
      ConnectionReply reply(connection.ioc, stream, 11, false, options_.write_timeout);
      const std::string body =
          refusal == http::status::payload_too_large
              ? "request body over " + std::to_string(options_.body_limit) + " bytes\n"
              : "malformed HTTP request: " + ec.message() + "\n";
      (void)reply.Respond(static_cast<int>(refusal), {{"Content-Type", "text/plain"}}, body);
      return;
    }
    auto& message = parser.get();
    Request request;
    request.method = std::string(message.method_string());
    const std::string_view target = message.target();
    request.path = std::string(target.substr(0, target.find('?')));
    for (const auto& field : message) {
      request.headers[AsciiLower(field.name_string())] = std::string(field.value());
    }
    request.body = std::move(message.body());
    ConnectionReply reply(connection.ioc, stream, message.version(), message.keep_alive(),
                          options_.write_timeout);
    try {
      handler_(request, reply);
    } catch (const std::exception& ex) {
      spdlog::error("answering {} {} failed: {}", request.method, request.path, ex.what());
    }
    if (!reply.used()) {
      (void)reply.Respond(500, {{"Content-Type", "text/plain"}}, "internal error\n");
    }
    if (!reply.reusable()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace countersign
