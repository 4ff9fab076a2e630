#include "mcp/tool_runner.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <vector>

#include <boost/json/parse.hpp>

#include "mcp/tool_arguments.hpp"
#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

boost::json::object Object(std::string_view text) { return boost::json::parse(text).as_object(); }

boost::json::object Request(std::string_view status) {
  auto request =
      Object(R"({"id":"req_1","kind":"approval","status":"pending","approvers":["group:sre"],
    "deadline_at":"2026-11-21T10:05:00.000Z","arguments":{"x":1},"decisions":[],"resolved_by":[],
    "receipt":null})");
  request["status"] = status;
  if (status == "approved") {
    request["resolved_by"] = boost::json::array{"alice"};
    request["receipt"] = "r.e.c";
  }
  return request;
}

// Answers from scripts; every call is recorded.
class FakeGateway final : public GatewayApi {
 public:
  std::deque<Result<boost::json::object>> creates;
  std::deque<Result<boost::json::object>> waits;
  std::function<void()> on_wait;  // runs before each wait answers
  std::vector<boost::json::object> created_bodies;
  std::vector<std::chrono::seconds> wait_timeouts;
  std::vector<std::pair<std::string, std::string>> cancels;
  Result<boost::json::object> get_answer = Request("pending");

  Result<boost::json::object> CreateRequest(const boost::json::object& body) override {
    created_bodies.push_back(body);
    return Pop(creates);
  }
  Result<boost::json::object> GetRequest(const std::string&) override { return get_answer; }
  Result<boost::json::object> WaitForRequest(const std::string&,
                                             std::chrono::seconds timeout) override {
    wait_timeouts.push_back(timeout);
    if (on_wait) on_wait();
    return Pop(waits);
  }
  Result<boost::json::object> CancelRequest(const std::string& id,
                                            const std::string& reason) override {
    cancels.emplace_back(id, reason);
    return Request("cancelled");
  }

 private:
  static Result<boost::json::object> Pop(std::deque<Result<boost::json::object>>& queue) {
    if (queue.empty()) return Error::Internal("the test scripted no more answers");
    auto next = std::move(queue.front());
    queue.pop_front();
    return next;
  }
};

class ToolRunnerTest : public ::testing::Test {
 protected:
  ToolRunnerTest() : runner_(gateway_, clock_, Options()) {}

  static ToolRunnerOptions Options() {
    ToolRunnerOptions options;
    options.progress_interval = std::chrono::seconds(2);
    options.retry_pauses = {Millis(0), Millis(0)};
    return options;
  }

  std::optional<boost::json::object> Run(McpTool tool, std::string_view arguments,
                                         boost::json::value token = nullptr) {
    ToolCall call;
    call.tool = tool;
    call.arguments = Object(arguments);
    call.progress_token = token;
    call.idempotency_key = "mcp-key";
    return runner_.Run(call, control_, [this](boost::json::object params) {
      progress_.push_back(std::move(params));
    });
  }

  FakeGateway gateway_;
  testing::FakeClock clock_;
  ToolRunner runner_;
  ToolCallControl control_;
  std::vector<boost::json::object> progress_;
};

TEST_F(ToolRunnerTest, CreatesWithTheKeyWaitsInSlicesAndReportsProgress) {
  gateway_.creates.push_back(Request("pending"));
  gateway_.waits.push_back(Request("pending"));
  gateway_.waits.push_back(Request("pending"));
  gateway_.waits.push_back(Request("approved"));
  auto result = Run(McpTool::kRequestApproval, R"({"action":"a","title":"t"})", 0);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->at("structuredContent").at("receipt"), "r.e.c");
  ASSERT_EQ(gateway_.created_bodies.size(), 1u);
  EXPECT_EQ(gateway_.created_bodies[0].at("idempotency_key"), "mcp-key");
  EXPECT_EQ(gateway_.wait_timeouts,
            (std::vector<std::chrono::seconds>(3, std::chrono::seconds(2))));
  ASSERT_EQ(progress_.size(), 2u);
  EXPECT_EQ(progress_[0].at("progressToken"), boost::json::value(0));
  EXPECT_EQ(progress_[0].at("progress"), 1);
  EXPECT_EQ(progress_[1].at("progress"), 2);
  EXPECT_NE(progress_[0].at("message").as_string().find("waiting for approval from group:sre"),
            boost::json::string::npos);
}

TEST_F(ToolRunnerTest, NoProgressWithoutAToken) {
  gateway_.creates.push_back(Request("pending"));
  gateway_.waits.push_back(Request("pending"));
  gateway_.waits.push_back(Request("denied"));
  auto result = Run(McpTool::kRequestApproval, R"({"action":"a","title":"t"})");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->at("isError"), true);
  EXPECT_TRUE(progress_.empty());
}

TEST_F(ToolRunnerTest, BadArgumentsAreAnErrorResultWithoutCallingTheGateway) {
  auto result = Run(McpTool::kRequestApproval, R"({"title":"t"})");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->at("isError"), true);
  EXPECT_EQ(result->at("content").at(0).at("text").as_string().find("invalid_arguments: "), 0u);
  EXPECT_TRUE(gateway_.created_bodies.empty());
}

TEST_F(ToolRunnerTest, AnUnreachableGatewayIsRetriedWithTheSameKeyThenUnavailable) {
  for (int i = 0; i < 3; ++i) gateway_.creates.push_back(Error::Unavailable("connection refused"));
  auto result = Run(McpTool::kAskHuman, R"({"question":"q"})");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->at("content").at(0).at("text").as_string().find("unavailable: "), 0u);
  ASSERT_EQ(gateway_.created_bodies.size(), 3u);
  EXPECT_EQ(gateway_.created_bodies[2].at("idempotency_key"), "mcp-key");
}

TEST_F(ToolRunnerTest, ARetryThatSucceedsCarriesOn) {
  gateway_.creates.push_back(Error::Unavailable("503"));
  gateway_.creates.push_back(Request("approved"));
  auto result = Run(McpTool::kRequestApproval, R"({"action":"a","title":"t"})");
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->contains("isError"));
  EXPECT_TRUE(gateway_.wait_timeouts.empty());  // approved at once (a policy or a grant)
}

TEST_F(ToolRunnerTest, ARefusalIsNotRetried) {
  gateway_.creates.push_back(Error::Invalid("approvers must be among the policy's"));
  auto result = Run(McpTool::kRequestApproval, R"({"action":"a","title":"t","approvers":["x"]})");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->at("content").at(0).at("text").as_string().find("invalid_arguments: "), 0u);
  EXPECT_EQ(gateway_.created_bodies.size(), 1u);
}

TEST_F(ToolRunnerTest, AGatewayLostWhileWaitingSaysTheRequestIsStillPending) {
  gateway_.creates.push_back(Request("pending"));
  for (int i = 0; i < 3; ++i) gateway_.waits.push_back(Error::Unavailable("gone"));
  auto result = Run(McpTool::kRequestApproval, R"({"action":"a","title":"t"})");
  ASSERT_TRUE(result.has_value());
  const auto text = std::string(result->at("content").at(0).at("text").as_string());
  EXPECT_EQ(text.find("unavailable: "), 0u);
  EXPECT_NE(text.find("req_1 is still pending"), std::string::npos);
}

TEST_F(ToolRunnerTest, ACancelWhileWaitingEndsTheCallWithoutAResult) {
  gateway_.creates.push_back(Request("pending"));
  gateway_.on_wait = [this] {
    // What the transport does on notifications/cancelled, while the long-poll runs.
    auto id = control_.Cancel();
    ASSERT_TRUE(id.has_value());
    ASSERT_TRUE(runner_.CancelForClient(*id).ok());
  };
  gateway_.waits.push_back(Request("cancelled"));
  EXPECT_FALSE(Run(McpTool::kRequestApproval, R"({"action":"a","title":"t"})").has_value());
  ASSERT_EQ(gateway_.cancels.size(), 1u);
  EXPECT_EQ(gateway_.cancels[0].first, "req_1");
  EXPECT_EQ(gateway_.cancels[0].second, kMcpCancelReason);
}

TEST_F(ToolRunnerTest, ACallCancelledBeforeItsRequestExistedCancelsItOnceCreated) {
  gateway_.creates.push_back(Request("pending"));
  ToolCall call;
  call.tool = McpTool::kRequestApproval;
  call.arguments = Object(R"({"action":"a","title":"t"})");
  // Cancelled while the create was on its way: the transport had no id to cancel.
  struct CancelOnCreate final : GatewayApi {
    FakeGateway& inner;
    ToolCallControl& control;
    CancelOnCreate(FakeGateway& g, ToolCallControl& c) : inner(g), control(c) {}
    Result<boost::json::object> CreateRequest(const boost::json::object& body) override {
      EXPECT_FALSE(control.Cancel().has_value());
      return inner.CreateRequest(body);
    }
    Result<boost::json::object> GetRequest(const std::string& id) override {
      return inner.GetRequest(id);
    }
    Result<boost::json::object> WaitForRequest(const std::string& id,
                                               std::chrono::seconds t) override {
      return inner.WaitForRequest(id, t);
    }
    Result<boost::json::object> CancelRequest(const std::string& id,
                                              const std::string& reason) override {
      return inner.CancelRequest(id, reason);
    }
  } gateway(gateway_, control_);
  ToolRunner runner(gateway, clock_, Options());
  EXPECT_FALSE(runner.Run(call, control_, nullptr).has_value());
  ASSERT_EQ(gateway_.cancels.size(), 1u);
  EXPECT_TRUE(gateway_.wait_timeouts.empty());
}

TEST_F(ToolRunnerTest, GetAndCancelMakeOneCall) {
  auto got = Run(McpTool::kGetRequest, R"({"id":"req_1"})");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->at("structuredContent").at("status"), "pending");
  auto cancelled = Run(McpTool::kCancelRequest, R"({"id":"req_1","reason":"not needed"})");
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->at("structuredContent").at("status"), "cancelled");
  EXPECT_EQ(gateway_.cancels.at(0).second, "not needed");
  gateway_.get_answer = Error::NotFound("no request req_2");
  auto missing = Run(McpTool::kGetRequest, R"({"id":"req_2"})");
  EXPECT_EQ(missing->at("content").at(0).at("text").as_string().find("not_found: "), 0u);
}

TEST_F(ToolRunnerTest, IdempotencyKeysDifferPerCallAndPerSession) {
  const auto a = ToolRunner::IdempotencyKey("nonce", 1);
  EXPECT_EQ(a, ToolRunner::IdempotencyKey("nonce", 1));
  EXPECT_NE(a, ToolRunner::IdempotencyKey("nonce", 2));
  EXPECT_NE(a, ToolRunner::IdempotencyKey("nonce", "1"));
  EXPECT_NE(a, ToolRunner::IdempotencyKey("other", 1));
  EXPECT_LE(a.size(), 255u);
}

}  // namespace
}  // namespace countersign
