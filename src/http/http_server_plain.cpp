// HttpServer's connections over plain TCP.
#include "http/http_server.hpp"

#include "http/http_server_session.hpp"

#include <memory>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>

#include "http/deferred_answer.hpp"
#include "http/responses.hpp"

namespace countersign {

template asio::awaitable<HttpServer::SessionEnd> HttpServer::Session(Connection&,
                                                                     beast::tcp_stream&,
                                                                     beast::flat_buffer);

asio::awaitable<HttpServer::SessionEnd> HttpServer::AnswerParked(Connection& connection,
                                                                 std::shared_ptr<Parked> parked) {
  beast::tcp_stream& tcp_stream = connection.stream;
  HttpResponse response;
  try {
    response = co_await parked->deferred->Answer();
  } catch (const std::exception& ex) {
    spdlog::error("a long-poll's answer failed: {}", ex.what());
    response = ErrorResponse(Error::Internal("internal error"));
  }
  parked->deferred.reset();
  ClientWatch& watch = *parked->watch;
  watch.stopped = true;
  if (!watch.woke) {
    boost::system::error_code ignored;
    tcp_stream.socket().cancel(ignored);
  }
  SessionEnd end;
  if (watch.gone) {
    end.graceful = false;
    co_return end;
  }
  bool graceful = true;
  const bool go_on = co_await WriteAnswer(connection, tcp_stream, response, parked->keep_alive,
                                          parked->head, parked->access.get(), graceful);
  if (!go_on) {
    end.graceful = graceful;
    co_return end;
  }
  // The connection's next request, with whatever the client sent after this one.
  auto next = Session(connection, tcp_stream, std::move(parked->buffer));
  parked.reset();
  co_return co_await std::move(next);
}

void HttpServer::Park(const std::shared_ptr<Connection>& connection,
                      std::shared_ptr<Parked> parked) {
  // Notice a client that leaves while the answer waits: its waiter and descriptor are freed at
  // once.
  parked->watch = std::make_shared<ClientWatch>();
  WatchForClose(connection->stream.socket(), parked->watch,
                [deferred = parked->deferred] { deferred->Abandon(); });
  DeferredAnswer& deferred = *parked->deferred;
  deferred.WhenReady([this, connection, parked = std::move(parked)]() mutable {
    Connection& c = *connection;
    asio::co_spawn(c.stream.get_executor(), AnswerParked(c, std::move(parked)),
                   [this, connection](std::exception_ptr failure, SessionEnd end) {
                     Ended(connection, failure, std::move(end));
                   });
  });
}

void HttpServer::Ended(const std::shared_ptr<Connection>& connection, std::exception_ptr failure,
                       SessionEnd end) {
  if (failure || !end.parked) {
    Close(connection, failure);
    return;
  }
  Park(connection, std::move(end.parked));
}

}  // namespace countersign
