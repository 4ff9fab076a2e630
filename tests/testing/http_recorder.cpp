#include "testing/http_recorder.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace countersign::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct HttpRecorder::State {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::deque<Reply> script;        // guarded by mu
  std::vector<Received> received;  // guarded by mu
};

HttpRecorder::HttpRecorder() : state_(std::make_shared<State>()) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(asio::socket_base::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  port_ = state_->acceptor.local_endpoint().port();
  thread_ = std::thread([state = state_] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(state->io);
      state->acceptor.accept(socket, ec);
      if (ec || state->stopping) return;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) continue;
      Received got{
          std::string(request.method_string()), std::string(request.target()), {}, request.body()};
      for (const auto& field : request) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        got.headers[name] = std::string(field.value());
      }
      Reply reply;
      {
        std::lock_guard lock(state->mu);
        state->received.push_back(std::move(got));
        if (!state->script.empty()) {
          reply = std::move(state->script.front());
          state->script.pop_front();
        }
      }
      http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
      for (const auto& [name, value] : reply.headers) response.set(name, value);
      response.body() = reply.body;
      response.keep_alive(false);
      response.prepare_payload();
      http::write(socket, response, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  });
}

HttpRecorder::~HttpRecorder() {
  boost::system::error_code ec;
  // Closing the acceptor from another thread does not wake a blocking accept(); a connection
  // of our own does, and the thread then sees `stopping`.
  state_->stopping = true;
  {
    tcp::socket poke(state_->io);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  if (thread_.joinable()) thread_.join();
  state_->acceptor.close(ec);
}

std::string HttpRecorder::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpRecorder::Script(Reply reply) {
  std::lock_guard lock(state_->mu);
  state_->script.push_back(std::move(reply));
}

std::vector<HttpRecorder::Received> HttpRecorder::received() const {
  std::lock_guard lock(state_->mu);
  return state_->received;
}

}  // namespace countersign::testing
