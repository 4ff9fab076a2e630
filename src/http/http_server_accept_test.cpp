// HttpServer's accept loop is paced by its network threads: while the thread the next
// connection goes to has not begun the ones handed to it, at most kMaxStartingConnections
// wait there and the rest of a burst stays in the kernel's listen backlog; every connection
// is served once the thread runs again, and a shutdown while the loop waits ends cleanly.
//
// The acceptor's io_context is driven by the test itself (poll()), so "the loop takes no more"
// is shown by polling it, not by waiting; the one network thread is held by a task of the
// test's, released by a promise.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "auth/open_authenticator.hpp"
#include "engine/alarms.hpp"
#include "http/http_server.hpp"
#include "http/io_context_pool.hpp"
#include "http/metrics.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"
#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

// Bounds how long a test waits for another thread; never a timing assertion.
constexpr auto kBound = std::chrono::seconds(30);
// A burst well past what may wait to begin.
constexpr int kBurst = HttpServer::kMaxStartingConnections + 24;

class AcceptPacingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(http::verb::get, "/ping", Router::Access::kPublic,
                [](RequestContext&) -> asio::awaitable<HttpResponse> {
                  co_return TextResponse(http::status::ok, "pong", "text/plain");
                });
    HttpServerOptions options;
    options.connection_pool = &pool_;
    server_ = std::make_unique<HttpServer>(io_, router_, metrics_, alarms_, options);
    auto bound = server_->Listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    endpoint_ = bound.value();
    pool_.Start();
    server_->Start();
  }

  void TearDown() override {
    Unblock();
    if (server_) server_->Shutdown();
    if (runner_.joinable()) {
      runner_.join();
    } else {
      io_.restart();
      io_.run_for(kBound);
    }
    pool_.Release();
    pool_.Join();
    alarms_.Stop();
  }

  // Holds the network thread until Unblock(); returns once the thread is held.
  void BlockNetworkThread() {
    std::shared_future<void> released = release_.get_future().share();
    auto held = std::make_shared<std::atomic<bool>>(false);
    asio::post(pool_.Next(), [released, held] {
      held->store(true);
      released.wait();
    });
    const auto give_up = std::chrono::steady_clock::now() + kBound;
    while (!held->load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    ASSERT_TRUE(held->load()) << "the network thread never ran the blocking task";
  }

  void Unblock() {
    if (!unblocked_) release_.set_value();
    unblocked_ = true;
  }

  // Runs the acceptor's ready handlers on this thread until `done()` (bounded).
  bool PollUntil(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + kBound;
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      io_.restart();
      io_.poll();
      std::this_thread::yield();
    }
    return done();
  }

  // kBurst clients, each connected (the kernel completes the handshake whether or not the
  // server has accepted) and with its request sent.
  std::vector<std::unique_ptr<tcp::socket>> ConnectBurst() {
    std::vector<std::unique_ptr<tcp::socket>> clients;
    for (int i = 0; i < kBurst; ++i) {
      auto socket = std::make_unique<tcp::socket>(client_io_);
      socket->connect(endpoint_);
      // A hang guard for the reads below, not a timing assertion.
      timeval guard{static_cast<time_t>(kBound.count()), 0};
      ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
      asio::write(*socket,
                  asio::buffer(std::string(
                      "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")));
      clients.push_back(std::move(socket));
    }
    return clients;
  }

  // Everything the server sent before closing.
  static std::string ReadAll(tcp::socket& socket) {
    std::string out;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(out), ec);
    return out;
  }

  testing::FakeClock clock_;
  Alarms alarms_{clock_};
  OpenAuthenticator auth_;
  Router router_{auth_};
  Metrics metrics_;
  IoContextPool pool_{1};
  asio::io_context io_;
  asio::io_context client_io_;
  std::unique_ptr<HttpServer> server_;
  tcp::endpoint endpoint_;
  std::promise<void> release_;
  bool unblocked_ = false;
  std::thread runner_;
};

TEST_F(AcceptPacingTest, ABurstWaitsInTheBacklogWhileItsThreadIsBusyAndIsServedAfter) {
  BlockNetworkThread();
  auto clients = ConnectBurst();

  // The loop takes connections until as many wait to begin as may, then waits for the thread.
  ASSERT_TRUE(PollUntil([&] {
    return server_->connections() == static_cast<size_t>(HttpServer::kMaxStartingConnections);
  })) << "admitted "
      << server_->connections();
  // The rest of the burst is in the backlog, ready to accept: driving the acceptor's context
  // takes none of it while the thread is held.
  for (int i = 0; i < 100; ++i) {
    io_.restart();
    io_.poll();
  }
  EXPECT_EQ(server_->connections(), static_cast<size_t>(HttpServer::kMaxStartingConnections));

  Unblock();
  runner_ = std::thread([this] { io_.run_for(kBound); });
  for (size_t i = 0; i < clients.size(); ++i) {
    const std::string answer = ReadAll(*clients[i]);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK\r\n")) << "client " << i << ": " << answer;
    EXPECT_TRUE(answer.ends_with("\r\n\r\npong")) << "client " << i << ": " << answer;
  }
}

TEST_F(AcceptPacingTest, AShutdownWhileTheLoopWaitsForItsThreadEndsEveryConnection) {
  BlockNetworkThread();
  auto clients = ConnectBurst();
  ASSERT_TRUE(PollUntil([&] {
    return server_->connections() == static_cast<size_t>(HttpServer::kMaxStartingConnections);
  }));

  server_->Shutdown();
  Unblock();
  // The loop ends (its context runs out of work) and every connection closes: the admitted
  // ones begin after the shutdown and close unanswered, the rest never leave the backlog.
  io_.restart();
  io_.run_for(kBound);
  EXPECT_TRUE(io_.stopped()) << "the accept loop did not end";
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(ReadAll(*clients[i]), "") << "client " << i;
  }
  ASSERT_TRUE(PollUntil([&] { return server_->connections() == 0; }))
      << server_->connections() << " connections still open";
}

}  // namespace
}  // namespace countersign
