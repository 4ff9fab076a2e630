// ConnectionResponseStream: the ResponseStream (response_stream.hpp) over one connection of the
// HttpServer, plain or TLS. Included only by http_server_session.hpp. Strand only.
#pragma once

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "http/beast.hpp"
#include "http/response_stream.hpp"

namespace countersign {

template <typename Stream>
class ConnectionResponseStream final : public ResponseStream {
 public:
  ConnectionResponseStream(Stream& stream, beast::tcp_stream& tcp, unsigned version,
                           std::chrono::seconds write_timeout)
      : stream_(stream), tcp_(tcp), version_(version), write_timeout_(write_timeout) {}

  asio::awaitable<bool> Open(const HttpResponse& head) override {
    if (opened_ || failed_) co_return false;
    opened_ = true;
    status_ = head.result_int();
    http::response<http::empty_body> out{head.result(), version_};
    for (const auto& field : head.base()) out.set(field.name_string(), field.value());
    out.set(http::field::server, "countersign");
    out.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{out};
    tcp_.expires_after(write_timeout_);
    auto [ec, written] = co_await http::async_write_header(stream_, serializer, kAwait);
    tcp_.expires_never();
    failed_ = static_cast<bool>(ec);
    co_return !failed_;
  }

  asio::awaitable<bool> Write(const std::string& text) override {
    if (!opened_ || failed_) co_return false;
    tcp_.expires_after(write_timeout_);
    auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(text), kAwait);
    tcp_.expires_never();
    if (ec) spdlog::debug("streamed response write failed: {}", ec.message());
    failed_ = static_cast<bool>(ec);
    co_return !failed_;
  }

  bool opened() const { return opened_; }
  unsigned status() const { return status_; }
  bool failed() const { return failed_; }

 private:
  static constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

  Stream& stream_;
  beast::tcp_stream& tcp_;
  const unsigned version_;
  const std::chrono::seconds write_timeout_;
  bool opened_ = false;
  unsigned status_ = 0;
  bool failed_ = false;
};

}  // namespace countersign
