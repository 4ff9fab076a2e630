// ChatCompletionsClient against a loopback HTTP recorder standing in for the model server,
// with an injected sleep that records the waits instead of waiting.
#include "notify/chat_completions_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include "notify/curl_transport.hpp"
#include "testing/http_recorder.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::HttpRecorder;

std::string CompletionBody(const std::string& content, const std::string& model = "gpt-4o-mini") {
  return json::serialize(json::object{
      {"id", "chatcmpl-1"},
      {"model", model},
      {"choices", json::array{json::object{
                      {"index", 0},
                      {"message", json::object{{"role", "assistant"}, {"content", content}}},
                      {"finish_reason", "stop"}}}}});
}

const std::vector<ChatTurn> kTurns = {{"system", "You answer briefly."}, {"user", "Hello?"}};

class ChatCompletionsClientTest : public ::testing::Test {
 protected:
  ChatCompletionsSettings Settings() {
    ChatCompletionsSettings s;
    s.base_url = recorder_.Url("/v1");
    s.model = "gpt-4o-mini";
    s.api_key = "sk-test";
    s.retries = 2;
    s.max_tokens = 200;
    return s;
  }

  ChatCompletionsClient Client(ChatCompletionsSettings settings) {
    return ChatCompletionsClient(std::move(settings), transport_,
                                 [this](std::chrono::milliseconds d) { waits_.push_back(d); });
  }
  ChatCompletionsClient Client() { return Client(Settings()); }

  void Reply(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    recorder_.Script({status, std::move(body), std::move(headers)});
  }

  HttpRecorder recorder_;
  CurlTransport transport_{OutboundPolicy::Make({{"127.0.0.1/32"}, false}, "test").value()};
  std::vector<std::chrono::milliseconds> waits_;
};

TEST_F(ChatCompletionsClientTest, ASuccessfulCallSendsTheTurnsAndAnswersTheFirstChoice) {
  Reply(200, CompletionBody("Hi there.", "gpt-4o-mini-2024-07-18"));
  auto completion = Client().Complete(kTurns, 0.25);
  ASSERT_TRUE(completion.ok()) << completion.error().message;
  EXPECT_EQ(completion->content, "Hi there.");
  EXPECT_EQ(completion->model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(completion->attempts, 1);
  EXPECT_TRUE(waits_.empty());

  const auto received = recorder_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/v1/chat/completions");
  EXPECT_EQ(received[0].headers.at("authorization"), "Bearer sk-test");
  EXPECT_EQ(received[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(completion->input_bytes, static_cast<int64_t>(received[0].body.size()));
  EXPECT_EQ(json::parse(received[0].body), json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "You answer briefly."},
                 {"role": "user", "content": "Hello?"}],
    "temperature": 0.25,
    "max_tokens": 200})"));
}

TEST_F(ChatCompletionsClientTest, ASchemaIsSentAsAStrictJsonSchemaResponseFormat) {
  Reply(200, CompletionBody("{\"ok\": true}"));
  const json::object schema{
      {"type", "object"}, {"properties", json::object{{"ok", json::object{{"type", "boolean"}}}}}};
  auto completion = Client().Complete(kTurns, 0, schema, "verdict");
  ASSERT_TRUE(completion.ok()) << completion.error().message;
  const json::value body = json::parse(recorder_.received().at(0).body);
  EXPECT_EQ(
      body.at("response_format"),
      (json::object{{"type", "json_schema"},
                    {"json_schema",
                     json::object{{"name", "verdict"}, {"schema", schema}, {"strict", true}}}}));
}

TEST_F(ChatCompletionsClientTest, AModelMissingFromTheReplyIsTheOneAskedFor) {
  Reply(200, R"({"choices": [{"message": {"role": "assistant", "content": "hi"}}]})");
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_TRUE(completion.ok()) << completion.error().message;
  EXPECT_EQ(completion->model, "gpt-4o-mini");
}

TEST_F(ChatCompletionsClientTest, A429WithRetryAfterWaitsThatLongThenSucceeds) {
  Reply(429, R"({"error": {"message": "Rate limit reached"}})", {{"Retry-After", "1"}});
  Reply(200, CompletionBody("Hi."));
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_TRUE(completion.ok()) << completion.error().message;
  EXPECT_EQ(completion->content, "Hi.");
  EXPECT_EQ(completion->attempts, 2);
  EXPECT_EQ(waits_, (std::vector<std::chrono::milliseconds>{1000ms}));
  EXPECT_EQ(recorder_.received().size(), 2u);
}

TEST_F(ChatCompletionsClientTest, RetryAfterMsIsPreferredToRetryAfter) {
  Reply(429, "{}", {{"retry-after-ms", "250"}, {"Retry-After", "5"}});
  Reply(200, CompletionBody("Hi."));
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_TRUE(completion.ok()) << completion.error().message;
  EXPECT_EQ(waits_, (std::vector<std::chrono::milliseconds>{250ms}));
}

TEST_F(ChatCompletionsClientTest, ServerErrorsAreRetriedWithABackoffThenGivenUp) {
  ChatCompletionsSettings settings = Settings();
  settings.retries = 1;
  Reply(500, R"({"error": {"message": "boom"}})");
  Reply(500, R"({"error": {"message": "boom again"}})");
  Reply(200, CompletionBody("never asked for"));
  auto completion = Client(settings).Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(completion.error().message, "the model server answered HTTP 500: boom again");
  EXPECT_EQ(recorder_.received().size(), 2u);
  EXPECT_EQ(waits_, (std::vector<std::chrono::milliseconds>{500ms}));
}

TEST_F(ChatCompletionsClientTest, TheBackoffDoublesBetweenAttempts) {
  Reply(502, "bad gateway");
  Reply(503, "unavailable");
  Reply(504, "timeout");
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(completion.error().message, "the model server answered HTTP 504: timeout");
  EXPECT_EQ(recorder_.received().size(), 3u);
  EXPECT_EQ(waits_, (std::vector<std::chrono::milliseconds>{500ms, 1000ms}));
}

TEST_F(ChatCompletionsClientTest, ALastRateLimitIsReportedWithItsRetryAfter) {
  ChatCompletionsSettings settings = Settings();
  settings.retries = 0;
  Reply(429, R"({"error": {"message": "slow down"}})", {{"Retry-After", "7"}});
  auto completion = Client(settings).Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(completion.error().retry_after_seconds, 7);
  EXPECT_EQ(completion.error().message, "the model server rate-limited the call: slow down");
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ChatCompletionsClientTest, AWaitLongerThanTheLimitIsLeftToTheCaller) {
  Reply(429, "{}", {{"Retry-After", "60"}});
  Reply(200, CompletionBody("never asked for"));
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(completion.error().retry_after_seconds, 60);
  EXPECT_EQ(recorder_.received().size(), 1u);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ChatCompletionsClientTest, AnExhaustedQuotaIsNotRetried) {
  Reply(429,
        R"({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                      "code": "insufficient_quota"}})");
  Reply(200, CompletionBody("never asked for"));
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(completion.error().message,
            "the model server rate-limited the call: You exceeded your current quota");
  EXPECT_EQ(recorder_.received().size(), 1u);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ChatCompletionsClientTest, AClientErrorIsInvalidAndNotRetried) {
  Reply(400, R"({"error": {"message": "The model `gpt-5x` does not exist"}})");
  Reply(200, CompletionBody("never asked for"));
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(completion.error().message,
            "the model server answered HTTP 400: The model `gpt-5x` does not exist");
  EXPECT_EQ(recorder_.received().size(), 1u);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ChatCompletionsClientTest, AnErrorBodyThatIsNotJsonIsQuoted) {
  Reply(401, "Unauthorized");
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().message, "the model server answered HTTP 401: Unauthorized");
}

TEST_F(ChatCompletionsClientTest, ARefusalIsInvalid) {
  Reply(200, R"({"choices": [{"message": {"role": "assistant", "content": null,
                                          "refusal": "I can't help with that."},
                               "finish_reason": "stop"}]})");
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(completion.error().message, "the model refused: I can't help with that.");
  EXPECT_EQ(recorder_.received().size(), 1u);
}

TEST_F(ChatCompletionsClientTest, AnAnswerCutOffAtMaxTokensIsInvalid) {
  Reply(200, R"({"choices": [{"message": {"role": "assistant", "content": "{\"has_ans"},
                               "finish_reason": "length"}]})");
  auto completion = Client().Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(completion.error().message, "the model's answer was cut off at max_tokens");
}

TEST_F(ChatCompletionsClientTest, AReplyThatIsNoCompletionIsInvalid) {
  const auto error = [&](const std::string& body) {
    Reply(200, body);
    auto completion = Client().Complete(kTurns, 0);
    EXPECT_FALSE(completion.ok());
    if (completion.ok()) return std::string("ok");
    EXPECT_EQ(completion.error().code, ErrorCode::kInvalid);
    return completion.error().message;
  };
  EXPECT_EQ(error(R"({"choices": []})"), "the model server's reply has no choices");
  EXPECT_EQ(error(R"({"object": "chat.completion"})"), "the model server's reply has no choices");
  EXPECT_EQ(error(R"({"choices": [{"finish_reason": "stop"}]})"),
            "the first choice has no message");
  EXPECT_EQ(error(R"({"choices": [{"message": {"role": "assistant"}}]})"),
            "the model's message has no text");
  EXPECT_EQ(error("<html>ok</html>"), "the model server's reply is not JSON");
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ChatCompletionsClientTest, WithoutAnApiKeyNoAuthorizationIsSent) {
  ChatCompletionsSettings settings = Settings();
  settings.api_key.clear();
  Reply(200, CompletionBody("Hi."));
  ASSERT_TRUE(Client(settings).Complete(kTurns, 0).ok());
  const auto received = recorder_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].headers.count("authorization"), 0u);
}

TEST_F(ChatCompletionsClientTest, TrailingSlashesOfTheBaseUrlAreDropped) {
  ChatCompletionsSettings settings = Settings();
  settings.base_url = recorder_.Url("/v1//");
  Reply(200, CompletionBody("Hi."));
  ASSERT_TRUE(Client(settings).Complete(kTurns, 0).ok());
  EXPECT_EQ(recorder_.received().at(0).target, "/v1/chat/completions");
}

TEST_F(ChatCompletionsClientTest, AServerThatDoesNotAnswerIsUnavailable) {
  ChatCompletionsSettings settings = Settings();
  settings.base_url = "http://127.0.0.1:9/v1";  // discard: nothing listens
  settings.retries = 1;
  auto completion = Client(settings).Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(completion.error().message.rfind("the model server did not answer: ", 0), 0u)
      << completion.error().message;
  EXPECT_EQ(waits_, (std::vector<std::chrono::milliseconds>{500ms}));
}

TEST_F(ChatCompletionsClientTest, ADestinationTheOutboundPolicyRefusesIsInvalidAtOnce) {
  CurlTransport strict;  // the default policy: nothing internal
  ChatCompletionsClient client(Settings(), strict,
                               [this](std::chrono::milliseconds d) { waits_.push_back(d); });
  auto completion = client.Complete(kTurns, 0);
  ASSERT_FALSE(completion.ok());
  EXPECT_EQ(completion.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(completion.error().message,
            "the outbound policy refuses " + recorder_.Url("/v1/chat/completions"));
  EXPECT_TRUE(recorder_.received().empty());
  EXPECT_TRUE(waits_.empty());
}

}  // namespace
}  // namespace countersign
