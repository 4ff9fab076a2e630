// GET /v1/audit/verify on a real server: it never holds up the network thread, and a second
// verification hashes only the events written since the first.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include "server/server.hpp"
#include "testing/fault_vfs.hpp"
#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

using namespace std::chrono_literals;

struct Reply {
  unsigned status = 0;
  std::string body;
};

// One HTTP/1.1 exchange over a blocking socket.
Reply Exchange(const tcp::endpoint& endpoint, http::verb method, const std::string& target,
               const std::string& token, const std::string& body = "") {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(endpoint);
  HttpRequest request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  http::write(socket, request);
  beast::flat_buffer buffer;
  HttpResponse response;
  http::read(socket, buffer, response);
  return {response.result_int(), response.body()};
}

boost::json::object Json(const Reply& reply) { return boost::json::parse(reply.body).as_object(); }

class AuditVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServeOptions options;
    options.given["listen"] = "127.0.0.1:0";
    options.given["store"] = "sqlite:" + dir_.File("cs.db");
    // One network thread: a verification run on it would hold up every other request.
    options.given["threads"] = "1";
    auto config = LoadServerConfig(options);
    ASSERT_TRUE(config.ok()) << config.error().message;
    config->sqlite_vfs = vfs_.name();
    auto server = Server::Start(std::move(config).value(), options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
    runner_ = std::thread([this] { server_->Run(); });
    std::ifstream(dir_.File("admin.token")) >> admin_;
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    vfs_.OpenReadGate();
    if (server_) server_->Stop();
    if (runner_.joinable()) runner_.join();
    server_.reset();
  }

  void CreateRequests(int n) {
    for (int i = 0; i < n; ++i) {
      const Reply r =
          Exchange(server_->endpoint(), http::verb::post, "/v1/requests", admin_,
                   R"({"action":"deploy.prod","title":"Ship build )" + std::to_string(i) + R"("})");
      ASSERT_EQ(r.status, 201u) << r.body;
    }
  }
  // The seq of the newest event in the audit log.
  int64_t LastSeq() {
    int64_t last = 0;
    for (;;) {
      const Reply r = Exchange(server_->endpoint(), http::verb::get,
                               "/v1/audit?limit=1000&since=" + std::to_string(last), admin_);
      EXPECT_EQ(r.status, 200u) << r.body;
      const int64_t next = Json(r).at("next_since").as_int64();
      if (next == last) return last;
      last = next;
    }
  }

  testing::TempDir dir_;
  testing::FaultVfs vfs_;  // outlives the server, whose connections use it
  std::unique_ptr<Server> server_;
  std::thread runner_;
  std::string admin_;
};

TEST_F(AuditVerifyTest, OtherRequestsAreAnsweredWhileAVerificationIsHeld) {
  CreateRequests(50);
  vfs_.CloseReadGate();
  std::atomic<bool> verify_answered{false};
  auto verify = std::async(std::launch::async, [&] {
    Reply r = Exchange(server_->endpoint(), http::verb::get, "/v1/audit/verify", admin_);
    verify_answered = true;
    return r;
  });
  // The verification is now inside SQLite, held at the gate.
  ASSERT_TRUE(vfs_.AwaitHeldReads(1, 30s)) << "the verification never reached the store";

  // The same (only) network thread answers meanwhile.
  auto health = std::async(std::launch::async, [&] {
    return Exchange(server_->endpoint(), http::verb::get, "/healthz", "");
  });
  ASSERT_EQ(health.wait_for(30s), std::future_status::ready)
      << "/healthz waited for the verification";
  EXPECT_EQ(health.get().status, 200u);
  EXPECT_FALSE(verify_answered) << "the verification finished before the gate opened";

  vfs_.OpenReadGate();
  const Reply report = verify.get();
  ASSERT_EQ(report.status, 200u) << report.body;
  EXPECT_TRUE(Json(report).at("ok").as_bool()) << report.body;
  EXPECT_TRUE(Json(report).at("full").as_bool());
}

TEST_F(AuditVerifyTest, ASecondVerificationHashesOnlyTheNewEvents) {
  CreateRequests(5);
  const Reply first = Exchange(server_->endpoint(), http::verb::get, "/v1/audit/verify", admin_);
  ASSERT_EQ(first.status, 200u) << first.body;
  const int64_t verified_to = Json(first).at("verified_to_seq").as_int64();
  EXPECT_EQ(verified_to, LastSeq());
  EXPECT_EQ(Json(first).at("events_checked").as_int64(), verified_to);
  EXPECT_TRUE(Json(first).at("full").as_bool()) << "the first verification of a process";

  CreateRequests(10);
  const int64_t last = LastSeq();
  ASSERT_GE(last - verified_to, 10);
  const Reply second = Exchange(server_->endpoint(), http::verb::get, "/v1/audit/verify", admin_);
  ASSERT_EQ(second.status, 200u) << second.body;
  const auto report = Json(second);
  EXPECT_TRUE(report.at("ok").as_bool()) << second.body;
  EXPECT_FALSE(report.at("full").as_bool());
  EXPECT_EQ(report.at("from_seq").as_int64(), verified_to);
  EXPECT_EQ(report.at("events_checked").as_int64(), last - verified_to);
  EXPECT_EQ(report.at("verified_to_seq").as_int64(), last);

  const Reply full =
      Exchange(server_->endpoint(), http::verb::get, "/v1/audit/verify?full=true", admin_);
  ASSERT_EQ(full.status, 200u) << full.body;
  EXPECT_TRUE(Json(full).at("full").as_bool());
  EXPECT_EQ(Json(full).at("events_checked").as_int64(), last);

  EXPECT_EQ(
      Exchange(server_->endpoint(), http::verb::get, "/v1/audit/verify?full=yes", admin_).status,
      400u);
}

}  // namespace
}  // namespace countersign
