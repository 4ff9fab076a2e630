// HttpExchange against a scripted HTTP peer on a loopback port: the steps happen in order, a
// body streams piece by piece, and each kind of failure has its own message.
#include "cli/http_exchange.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <string>
#include <thread>

namespace countersign {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// One connection's worth of server: accepts, reads the request's head (unless told not to),
// then runs `script` with the connected socket, on a thread of its own.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(std::function<void(int socket, const std::string& request)> script,
                        bool read_head = true) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(listener_, 1), 0);
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, script = std::move(script), read_head] {
      const int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      std::string request;
      char buffer[4096];
      while (read_head && request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(connection, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      script(connection, request);
      ::close(connection);
    });
  }
  ~ScriptedPeer() {
    ::shutdown(listener_, SHUT_RDWR);  // ends an accept() nobody connected to
    thread_.join();
    ::close(listener_);
  }

  HttpUrl Url() const {
    const std::string port = std::to_string(port_);
    return HttpUrl{"http", "127.0.0.1", port, "127.0.0.1:" + port, "/prefix"};
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

void Write(int socket, const std::string& text) {
  ASSERT_EQ(::send(socket, text.data(), text.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(text.size()));
}

TEST(HttpExchangeTest, SendsTheRequestAndReadsTheHeadThenTheBody) {
  std::promise<std::string> seen;
  ScriptedPeer peer([&seen](int socket, const std::string& request) {
    seen.set_value(request);
    Write(socket,
          "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
          "X-Request-Id:  abc \r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  });
  HttpExchange exchange(peer.Url(), "the peer");
  const std::string body = R"({"q":2})";
  ASSERT_TRUE(
      exchange.Send("POST", "/v1/things?x=1", {{"Authorization", "Bearer t"}}, &body, seconds(30))
          .ok());
  auto head = exchange.ReadHead(seconds(30));
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->status, 201);
  EXPECT_EQ(head->headers["content-type"], "application/json");
  EXPECT_EQ(head->headers["x-request-id"], "abc");
  auto rest = exchange.ReadBody(1024, seconds(30));
  ASSERT_TRUE(rest.ok()) << rest.error().message;
  EXPECT_EQ(*rest, "{\"a\":1}");

  const std::string request = seen.get_future().get();
  EXPECT_EQ(request.rfind("POST /prefix/v1/things?x=1 HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Authorization: Bearer t\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("User-Agent: countersign-cli/"), std::string::npos) << request;
  EXPECT_NE(request.find("Connection: close\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.find("Expect:"), std::string::npos) << request;
}

TEST(HttpExchangeTest, StreamsEachPieceBeforeTheNextIsSent) {
  std::promise<void> first_read;
  ScriptedPeer peer([&first_read](int socket, const std::string&) {
    Write(socket,
          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
          "\r\n9\r\ndata: 1\n\n\r\n");
    first_read.get_future().wait();  // the client has the first piece: only then the second
    Write(socket, "9\r\ndata: 2\n\n\r\n0\r\n\r\n");
  });
  HttpExchange exchange(peer.Url(), "the peer");
  const Status sent = exchange.Send("GET", "/events", {}, nullptr, seconds(30));
  auto first = exchange.ReadSome(seconds(30));  // reads the head on the way
  first_read.set_value();
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(**first, "data: 1\n\n");
  auto second = exchange.ReadSome(seconds(30));
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ(**second, "data: 2\n\n");
  auto end = exchange.ReadSome(seconds(30));
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_FALSE(end->has_value());
}

TEST(HttpExchangeTest, ASilentPeerIsNoAnswerWithinTheReadTimeout) {
  std::promise<void> done;
  ScriptedPeer peer([&done](int, const std::string&) { done.get_future().wait(); });
  HttpExchange exchange(peer.Url(), "the peer");
  // Send returns once the request is out, not when an answer comes.
  const Status sent = exchange.Send("GET", "/", {}, nullptr, seconds(30));
  auto head = exchange.ReadHead(milliseconds(50));
  done.set_value();
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(head.error().message, "no answer from the peer within 1 s");
}

TEST(HttpExchangeTest, APeerThatHangsUpIsAFailedRead) {
  ScriptedPeer peer([](int, const std::string&) {});
  HttpExchange exchange(peer.Url(), "the peer");
  ASSERT_TRUE(exchange.Send("GET", "/", {}, nullptr, seconds(30)).ok());
  auto head = exchange.ReadHead(seconds(30));
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().message.rfind("reading the answer from the peer failed: ", 0), 0u)
      << head.error().message;
}

TEST(HttpExchangeTest, ABodyOverTheLimitIsRefused) {
  ScriptedPeer peer([](int socket, const std::string&) {
    Write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
  });
  HttpExchange exchange(peer.Url(), "the peer");
  ASSERT_TRUE(exchange.Send("GET", "/", {}, nullptr, seconds(30)).ok());
  ASSERT_TRUE(exchange.ReadHead(seconds(30)).ok());
  auto body = exchange.ReadBody(9, seconds(30));
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.error().message, "the answer from the peer is over 9 bytes");
}

TEST(HttpExchangeTest, AClosedPortCannotBeReached) {
  int port = 0;
  {
    ScriptedPeer peer([](int, const std::string&) {});
    port = std::stoi(peer.Url().port);
  }  // closed: nothing listens there now
  const std::string text = std::to_string(port);
  HttpExchange exchange(HttpUrl{"http", "127.0.0.1", text, "127.0.0.1:" + text, ""}, "the peer");
  const Status sent = exchange.Send("GET", "/", {}, nullptr, seconds(30));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(sent.error().message.rfind("cannot reach the peer: ", 0), 0u) << sent.error().message;
}

TEST(HttpExchangeTest, AFailedTlsHandshakeCannotReachThePeer) {
  // A peer that hangs up on the ClientHello.
  ScriptedPeer peer([](int, const std::string&) {}, /*read_head=*/false);
  HttpUrl url = peer.Url();
  url.scheme = "https";
  HttpExchange exchange(url, "the peer");
  const Status sent = exchange.Send("GET", "/", {}, nullptr, seconds(30));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().message.rfind("cannot reach the peer: ", 0), 0u) << sent.error().message;
}

}  // namespace
}  // namespace countersign
