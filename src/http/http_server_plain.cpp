// HttpServer's connections over plain TCP.
#include "http/http_server.hpp"

#include "http/http_server_session.hpp"

#include <memory>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>

#include "http/responses.hpp"

namespace countersign {

template asio::awaitable<HttpServer::SessionEnd> HttpServer::Session(Connection&,
                                                                     beast::tcp_stream&,
                                                                     beast::flat_buffer);

asio::awaitable<HttpServer::SessionEnd> HttpServer::AnswerParked(Connection& connection,
                                                                 std::unique_ptr<Parked> parked) {
  beast::tcp_stream& tcp_stream = connection.stream;
  // Notice a client that leaves while the answer waits: its waiter and descriptor are freed at
  // once.
  auto watch = std::make_shared<ClientWatch>();
  if (parked->abandon) WatchForClose(tcp_stream.socket(), watch, std::move(parked->abandon));
  HttpResponse response;
  try {
    response = co_await std::move(parked->deferred);
  } catch (const std::exception& ex) {
    spdlog::error("a long-poll's answer failed: {}", ex.what());
    response = ErrorResponse(Error::Internal("internal error"));
  }
  watch->stopped = true;
  if (!watch->woke) {
    boost::system::error_code ignored;
    tcp_stream.socket().cancel(ignored);
  }
  SessionEnd end;
  if (watch->gone) {
    end.graceful = false;
    co_return end;
  }
  bool graceful = true;
  const bool go_on = co_await WriteAnswer(connection, tcp_stream, response, parked->keep_alive,
                                          parked->head, parked->access, graceful);
  if (!go_on) {
    end.graceful = graceful;
    co_return end;
  }
  // The connection's next request, with whatever the client sent after this one.
  auto next = Session(connection, tcp_stream, std::move(parked->buffer));
  parked.reset();
  co_return co_await std::move(next);
}

void HttpServer::Ended(const std::shared_ptr<Connection>& connection, std::exception_ptr failure,
                       SessionEnd end) {
  if (failure || !end.parked) {
    Close(connection, failure);
    return;
  }
  Connection& c = *connection;
  asio::co_spawn(c.stream.get_executor(), AnswerParked(c, std::move(end.parked)),
                 [this, connection](std::exception_ptr next_failure, SessionEnd next_end) {
                   Ended(connection, next_failure, std::move(next_end));
                 });
}

}  // namespace countersign
