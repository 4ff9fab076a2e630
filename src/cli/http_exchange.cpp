#include "cli/http_exchange.hpp"

#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/write.hpp>

#include "cli/run_to_completion.hpp"
#include "core/ascii.hpp"
#include "http/beast.hpp"

namespace countersign {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUserAgent = "countersign-cli/0.1";

long long CeilSeconds(HttpExchange::Duration timeout) {
  return std::chrono::ceil<std::chrono::seconds>(timeout).count();
}

}  // namespace

struct HttpExchange::Connection {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  bool head_read = false;
};

HttpExchange::HttpExchange(HttpUrl url, std::string peer)
    : url_(std::move(url)), peer_(std::move(peer)), connection_(std::make_unique<Connection>()) {
  // Streams run as long as they run; ReadBody() counts its own limit.
  connection_->parser.body_limit(boost::none);
}

HttpExchange::~HttpExchange() {
  beast::error_code ignored;
  connection_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

Status HttpExchange::Send(std::string_view method, std::string_view target, const Headers& headers,
                          const std::string* body, Duration timeout) {
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return Error::Internal("unknown HTTP method '" + std::string(method) + "'");
  }
  const auto deadline = SteadyClock::now() + timeout;
  auto remaining = [deadline] {
    return std::max(SteadyClock::duration::zero(), deadline - SteadyClock::now());
  };
  auto unreachable = [this](const std::string& reason) {
    return Error::Unavailable("cannot reach " + peer_ + ": " + reason);
  };
  asio::io_context& ioc = connection_->ioc;
  beast::error_code ec;

  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  bool resolved = false;
  resolver.async_resolve(url_.host, url_.port,
                         [&](const beast::error_code& e, tcp::resolver::results_type results) {
                           ec = e;
                           endpoints = std::move(results);
                           resolved = true;
                         });
  ioc.run_for(remaining());
  if (!resolved) {
    resolver.cancel();
    RunToCompletion(ioc);
    return unreachable("timed out looking up " + url_.host);
  }
  if (ec) return unreachable(ec.message());

  beast::tcp_stream& stream = connection_->stream;
  stream.expires_after(remaining());
  stream.async_connect(endpoints,
                       [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout) return unreachable("timed out connecting");
  if (ec) return unreachable(ec.message());

  http::request<http::string_body> request(verb, url_.prefix + std::string(target), 11);
  request.set(http::field::host, url_.host_header);
  request.set(http::field::user_agent, kUserAgent);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (body != nullptr) request.body() = *body;
  request.keep_alive(false);
  request.prepare_payload();

  stream.expires_after(remaining());
  http::async_write(stream, request, [&](const beast::error_code& e, std::size_t) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout) return unreachable("timed out sending the request");
  if (ec) return unreachable("sending the request failed: " + ec.message());
  return Ok();
}

Error HttpExchange::ReadFailure(const std::string& reason, bool timed_out, Duration timeout) const {
  if (timed_out) {
    return Error::Unavailable("no answer from " + peer_ + " within " +
                              std::to_string(CeilSeconds(timeout)) + " s");
  }
  return Error::Unavailable("reading the answer from " + peer_ + " failed: " + reason);
}

Result<HttpHead> HttpExchange::ReadHead(Duration timeout) {
  Connection& c = *connection_;
  beast::error_code ec;
  c.stream.expires_after(timeout);
  http::async_read_header(c.stream, c.buffer, c.parser,
                          [&](const beast::error_code& e, std::size_t) { ec = e; });
  RunToCompletion(c.ioc);
  if (ec) return ReadFailure(ec.message(), ec == beast::error::timeout, timeout);
  c.head_read = true;
  const auto& message = c.parser.get();
  HttpHead head;
  head.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    head.headers[AsciiLower(field.name_string())] = std::string(field.value());
  }
  return head;
}

Result<std::optional<std::string>> HttpExchange::ReadSome(Duration timeout) {
  Connection& c = *connection_;
  if (!c.head_read) {
    auto head = ReadHead(timeout);
    if (!head.ok()) return std::move(head).error();
  }
  std::string& body = c.parser.get().body();
  while (body.empty()) {
    if (c.parser.is_done()) return std::optional<std::string>();
    beast::error_code ec;
    c.stream.expires_after(timeout);
    http::async_read_some(c.stream, c.buffer, c.parser,
                          [&](const beast::error_code& e, std::size_t) { ec = e; });
    RunToCompletion(c.ioc);
    if (ec == http::error::end_of_stream && body.empty()) return std::optional<std::string>();
    if (ec && ec != http::error::end_of_stream) {
      return ReadFailure(ec.message(), ec == beast::error::timeout, timeout);
    }
  }
  std::optional<std::string> piece(std::move(body));
  body.clear();
  return piece;
}

Result<std::string> HttpExchange::ReadBody(std::uint64_t limit, Duration timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string out;
  for (;;) {
    auto piece = ReadSome(std::max(SteadyClock::duration::zero(), deadline - SteadyClock::now()));
    if (!piece.ok()) return std::move(piece).error();
    if (!piece->has_value()) return out;
    if (out.size() + (*piece)->size() > limit) {
      return Error::Unavailable("the answer from " + peer_ + " is over " + std::to_string(limit) +
                                " bytes");
    }
    out += **piece;
  }
}

}  // namespace countersign
