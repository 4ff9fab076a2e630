#include "cli/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <utility>

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
#include <boost/url/parse.hpp>

#include "core/ascii.hpp"

namespace countersign {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Listings can be long; anything beyond this is not a countersign answer.
constexpr std::uint64_t kBodyLimit = 64 * 1024 * 1024;
constexpr const char* kUserAgent = "countersign-cli/0.1";

// Every operation below is asynchronous only so that it can have a deadline (Beast's
// tcp_stream times out async operations, not blocking ones); each is run to completion on a
// private io_context before the next one starts.
void RunToCompletion(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace

HttpClient::HttpClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  auto parsed = boost::urls::parse_uri(base_url_);
  if (!parsed) {
    url_error_ = Error::Unavailable("invalid server URL '" + base_url_ +
                                    "': expected http://HOST:PORT[/PREFIX]");
    return;
  }
  const auto& url = *parsed;
  if (url.scheme_id() == boost::urls::scheme::https) {
    url_error_ = Error::Unavailable(
        "https URLs are not supported by this client yet; use http:// on loopback or a local "
        "TLS-terminating proxy");
    return;
  }
  if (url.scheme_id() != boost::urls::scheme::http) {
    url_error_ = Error::Unavailable("unsupported scheme '" + std::string(url.scheme()) +
                                    "' in server URL '" + base_url_ +
                                    "': expected http://HOST:PORT[/PREFIX]");
    return;
  }
  if (!url.has_authority() || url.encoded_host_address().empty() || url.has_userinfo() ||
      url.has_query() || url.has_fragment()) {
    url_error_ = Error::Unavailable("invalid server URL '" + base_url_ +
                                    "': expected http://HOST:PORT[/PREFIX]");
    return;
  }
  host_ = url.host_address();
  port_ = url.has_port() && !url.port().empty() ? std::string(url.port()) : "80";
  host_header_ = url.encoded_host_and_port();
  prefix_ = url.encoded_path();
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

Result<HttpResponse> HttpClient::Call(std::string_view method, std::string_view target,
                                      const std::string* json_body,
                                      std::chrono::seconds timeout) const {
  if (url_error_) return *url_error_;
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return Error::Internal("unknown HTTP method '" + std::string(method) + "'");
  }
  const auto deadline = SteadyClock::now() + timeout;
  auto remaining = [deadline] {
    return std::max(SteadyClock::duration::zero(), deadline - SteadyClock::now());
  };
  auto unreachable = [this](const std::string& reason) {
    return Error::Unavailable("cannot reach countersign at " + base_url_ + ": " + reason);
  };

  asio::io_context ioc;
  beast::error_code ec;

  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  bool resolved = false;
  resolver.async_resolve(host_, port_,
                         [&](const beast::error_code& e, tcp::resolver::results_type results) {
                           ec = e;
                           endpoints = std::move(results);
                           resolved = true;
                         });
  ioc.run_for(remaining());
  if (!resolved) {
    resolver.cancel();
    RunToCompletion(ioc);
    return unreachable("timed out looking up " + host_);
  }
  if (ec) return unreachable(ec.message());

  beast::tcp_stream stream(ioc);
  stream.expires_after(remaining());
  stream.async_connect(endpoints,
                       [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout) return unreachable("timed out connecting");
  if (ec) return unreachable(ec.message());

  http::request<http::string_body> request(verb, prefix_ + std::string(target), 11);
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, kUserAgent);
  request.set(http::field::accept, "application/json");
  if (!token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
  if (json_body != nullptr) {
    request.set(http::field::content_type, "application/json");
    request.body() = *json_body;
  }
  request.keep_alive(false);
  request.prepare_payload();

  stream.expires_after(remaining());
  http::async_write(stream, request, [&](const beast::error_code& e, std::size_t) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout) return unreachable("timed out sending the request");
  if (ec) return unreachable("sending the request failed: " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  stream.expires_after(remaining());
  http::async_read(stream, buffer, parser,
                   [&](const beast::error_code& e, std::size_t) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout) {
    return Error::Unavailable("no answer from countersign at " + base_url_ + " within " +
                              std::to_string(timeout.count()) + " s");
  }
  if (ec) {
    return Error::Unavailable("reading the answer from countersign at " + base_url_ +
                              " failed: " + ec.message());
  }

  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  auto& message = parser.get();
  HttpResponse response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response.headers[AsciiLower(field.name_string())] = std::string(field.value());
  }
  response.body = std::move(message.body());
  return response;
}

}  // namespace countersign
