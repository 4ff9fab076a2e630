#include "mcp/json_rpc.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace countersign {
namespace {

Result<JsonRpcMessage> Read(std::string_view text) {
  auto value = ParseJsonRpcText(text);
  if (!value.ok()) return std::move(value).error();
  return ReadJsonRpcMessage(*value);
}

TEST(JsonRpcTest, ReadsARequestWithAnIntegerOrStringId) {
  auto request = Read(R"({"jsonrpc":"2.0","id":0,"method":"ping"})");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->kind, JsonRpcKind::kRequest);
  EXPECT_EQ(request->id, boost::json::value(0));
  EXPECT_EQ(request->method, "ping");
  EXPECT_TRUE(request->params.empty());

  auto named =
      Read(R"({"jsonrpc":"2.0","id":"a-1","method":"tools/list","params":{"cursor":"x"}})");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->id, boost::json::value("a-1"));
  EXPECT_EQ(named->params.at("cursor"), "x");
}

TEST(JsonRpcTest, ReadsNotificationsAndResponses) {
  auto notification = Read(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(notification.ok());
  EXPECT_EQ(notification->kind, JsonRpcKind::kNotification);
  EXPECT_TRUE(notification->id.is_null());

  auto response = Read(R"({"jsonrpc":"2.0","id":7,"result":{}})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->kind, JsonRpcKind::kResponse);
  auto error = Read(R"({"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"x"}})");
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->kind, JsonRpcKind::kResponse);
}

TEST(JsonRpcTest, TextThatIsNotJsonIsAParseError) {
  for (std::string_view text : {"{", "not json", "{\"a\":1}}", "\"\xff\""}) {
    auto value = ParseJsonRpcText(text);
    ASSERT_FALSE(value.ok()) << text;
    EXPECT_EQ(value.error().code, ErrorCode::kMalformed);
  }
}

TEST(JsonRpcTest, AKeyTwiceInOneObjectIsAParseError) {
  auto value = ParseJsonRpcText(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}})");
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.error().message.find("name"), std::string::npos);
}

TEST(JsonRpcTest, BatchesAndMalformedMessagesAreInvalidRequests) {
  for (std::string_view text :
       {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", R"(3)", R"({"id":1,"method":"ping"})",
        R"({"jsonrpc":"1.0","id":1,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":null,"method":"ping"})",
        R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", R"({"jsonrpc":"2.0","id":1,"method":7})",
        R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})", R"({"jsonrpc":"2.0","id":1})",
        R"({"jsonrpc":"2.0","id":1,"result":{},"error":{}})"}) {
    auto message = Read(text);
    ASSERT_FALSE(message.ok()) << text;
    EXPECT_EQ(message.error().code, ErrorCode::kInvalid) << text;
  }
}

TEST(JsonRpcTest, TheIdOfAnInvalidMessageIsReadWhenItIsValid) {
  EXPECT_EQ(ReadableJsonRpcId(boost::json::parse(R"({"id":4,"method":5})")), boost::json::value(4));
  EXPECT_EQ(ReadableJsonRpcId(boost::json::parse(R"({"id":"x"})")), boost::json::value("x"));
  EXPECT_TRUE(ReadableJsonRpcId(boost::json::parse(R"({"id":null})")).is_null());
  EXPECT_TRUE(ReadableJsonRpcId(boost::json::parse(R"({"id":[1]})")).is_null());
  EXPECT_TRUE(ReadableJsonRpcId(boost::json::parse(R"([1])")).is_null());
}

TEST(JsonRpcTest, WritesOneLineWithoutRawNewlines) {
  const std::string line =
      JsonRpcResultLine(1, boost::json::object{{"text", "two\nlines\r\u2028"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(
      boost::json::parse(line),
      boost::json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"text":"two\nlines\r\u2028"}})"));
}

TEST(JsonRpcTest, AnErrorWithoutAReadableIdLeavesTheIdOut) {
  EXPECT_EQ(boost::json::parse(JsonRpcErrorLine(nullptr, kJsonRpcParseError, "bad")),
            boost::json::parse(R"({"jsonrpc":"2.0","error":{"code":-32700,"message":"bad"}})"));
  EXPECT_EQ(boost::json::parse(JsonRpcErrorLine("q", kJsonRpcMethodNotFound, "no", 5)),
            boost::json::parse(
                R"({"jsonrpc":"2.0","id":"q","error":{"code":-32601,"message":"no","data":5}})"));
}

TEST(JsonRpcTest, WritesNotifications) {
  EXPECT_EQ(boost::json::parse(JsonRpcNotificationLine("notifications/progress",
                                                       boost::json::object{{"progress", 1}})),
            boost::json::parse(
                R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})"));
}

}  // namespace
}  // namespace countersign
