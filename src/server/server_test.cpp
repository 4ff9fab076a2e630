// Server: the object graph built, serving, reloaded and stopped in order.
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  ServeOptions Options() {
    ServeOptions options;
    options.given["listen"] = "127.0.0.1:0";
    options.given["store"] = "sqlite:" + dir_.File("cs.db");
    options.given["port_file"] = dir_.File("cs.port");
    options.given["threads"] = "1";
    return options;
  }
  std::string WriteConfig(const std::string& text) {
    const std::string path = dir_.File("countersign.toml");
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  Result<std::unique_ptr<Server>> Start(const ServeOptions& options) {
    auto config = LoadServerConfig(options);
    if (!config.ok()) return std::move(config).error();
    return Server::Start(std::move(config).value(), options);
  }

  testing::TempDir dir_;
};

// One HTTP/1.1 GET over a blocking socket; the status line.
std::string StatusLineOf(const tcp::endpoint& endpoint, const std::string& target) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(endpoint);
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  asio::streambuf reply;
  asio::read_until(socket, reply, "\r\n");
  std::istream lines(&reply);
  std::string status;
  std::getline(lines, status);
  if (!status.empty() && status.back() == '\r') status.pop_back();
  return status;
}

TEST_F(ServerTest, StartsListeningServesAndStopsWhenAsked) {
  auto server = Start(Options());
  ASSERT_TRUE(server.ok()) << server.error().message;
  const tcp::endpoint endpoint = server.value()->endpoint();
  EXPECT_NE(endpoint.port(), 0);
  std::ifstream port_file(dir_.File("cs.port"));
  int port = 0;
  port_file >> port;
  EXPECT_EQ(port, endpoint.port());
  // First start with auth on: the admin token is written.
  EXPECT_TRUE(std::filesystem::exists(dir_.File("admin.token")));

  std::thread runner([&] { server.value()->Run(); });
  EXPECT_EQ(StatusLineOf(endpoint, "/healthz"), "HTTP/1.1 200 OK");
  server.value()->Stop();
  runner.join();  // Run() returns once the stop sequence has run
  boost::system::error_code refused;
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(endpoint, refused);
  EXPECT_TRUE(refused) << "still accepting after Stop()";
}

TEST_F(ServerTest, AServerThatNeverRanStopsOnDestruction) {
  auto server = Start(Options());
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::ifstream first(dir_.File("admin.token"));
  std::string token;
  std::getline(first, token);
  server.value().reset();  // joins every thread it started, or this test hangs
  // What the first one wrote was committed: the next start finds its admin.
  auto again = Start(Options());
  ASSERT_TRUE(again.ok()) << again.error().message;
  std::ifstream second(dir_.File("admin.token"));
  std::string same;
  std::getline(second, same);
  EXPECT_EQ(same, token);
}

TEST_F(ServerTest, ReloadSwapsThePoliciesOnly) {
  ServeOptions options = Options();
  options.given["config"] = WriteConfig("[[policy]]\nname = \"a\"\n");
  auto server = Start(options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  ASSERT_EQ(server.value()->policies()->policies().size(), 1u);

  WriteConfig("[[policy]]\nname = \"a\"\n[[policy]]\nname = \"b\"\ntimeout = \"1h\"\n");
  auto fresh = LoadServerConfig(options);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  server.value()->Reload(fresh.value());
  const auto policies = server.value()->policies();
  ASSERT_EQ(policies->policies().size(), 2u);
  EXPECT_EQ(policies->policies()[1].name, "b");
  EXPECT_EQ(policies->policies()[1].timeout, std::chrono::hours(1));
}

TEST_F(ServerTest, AFailedStepIsTheErrorAndNothingIsLeftRunning) {
  ServeOptions options = Options();
  options.given["tls_cert"] = dir_.File("missing.crt");
  options.given["tls_key"] = dir_.File("missing.key");
  auto server = Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("missing.crt"), std::string::npos)
      << server.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("cs.port")));
  // The store opened before the failure is closed again.
  auto fine = Start(Options());
  ASSERT_TRUE(fine.ok()) << fine.error().message;
}

}  // namespace
}  // namespace countersign
