#include "cli/mcp_agent_answer.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

// Records what the answer wrote; `fail_writes` makes the agent leave.
class RecordingReply final : public AgentHttpServer::Reply {
 public:
  bool Respond(int status, const AgentHttpServer::Fields& fields,
               const std::string& body) override {
    this->status = status;
    this->fields = fields;
    this->body = body;
    return true;
  }
  bool OpenStream(const AgentHttpServer::Fields& fields) override {
    status = 200;
    streamed = true;
    this->fields = fields;
    return true;
  }
  bool Write(const std::string& text) override {
    if (fail_writes) return false;
    body += text;
    return true;
  }
  std::string Field(const std::string& name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) return v;
    }
    return "";
  }

  int status = 0;
  AgentHttpServer::Fields fields;
  std::string body;
  bool streamed = false;
  bool fail_writes = false;
};

constexpr const char* kResponse = R"({"jsonrpc":"2.0","id":7,"result":{}})";
constexpr const char* kProgress =
    R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":1}})";

TEST(McpAgentAnswerTest, AJsonAnswerFromUpstreamGoesOutAsJson) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, true);
  answer.AddField("Mcp-Session-Id", "s1");
  answer.PreferJson();
  EXPECT_TRUE(answer.Send(kResponse));
  EXPECT_TRUE(answer.answered());
  EXPECT_FALSE(reply.streamed);
  EXPECT_EQ(reply.body, kResponse);
  EXPECT_EQ(reply.Field("Content-Type"), "application/json");
  EXPECT_EQ(reply.Field("Mcp-Session-Id"), "s1");
}

TEST(McpAgentAnswerTest, StreamedMessagesBecomeEventsWithoutIds) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, true);
  EXPECT_TRUE(answer.Send(kProgress));
  EXPECT_FALSE(answer.answered());
  EXPECT_TRUE(answer.Send(kResponse));
  EXPECT_TRUE(answer.answered());
  EXPECT_TRUE(reply.streamed);
  EXPECT_EQ(reply.Field("Content-Type"), "text/event-stream");
  EXPECT_EQ(reply.body, std::string("data: ") + kProgress + "\n\ndata: " + kResponse + "\n\n");
}

TEST(McpAgentAnswerTest, AJsonOnlyAgentGetsTheResponseAlone) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, false);
  EXPECT_FALSE(answer.OpenStream());
  EXPECT_TRUE(answer.Send(kProgress));
  EXPECT_TRUE(answer.KeepAlive());
  EXPECT_TRUE(answer.Send(kResponse));
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(reply.streamed);
  EXPECT_EQ(reply.body, kResponse);
}

TEST(McpAgentAnswerTest, AResponseToAnotherIdDoesNotAnswerTheRequest) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 8, true);
  answer.PreferJson();
  EXPECT_TRUE(answer.Send(kResponse));
  EXPECT_FALSE(answer.answered());
}

TEST(McpAgentAnswerTest, FailingBeforeAnythingWasSentIsA502WithTheRequestId) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, true);
  answer.Fail("cannot reach the upstream");
  EXPECT_EQ(reply.status, 502);
  EXPECT_EQ(
      reply.body,
      R"({"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"cannot reach the upstream"}})");
}

TEST(McpAgentAnswerTest, FailingAnOpenStreamEndsItWithAnErrorEvent) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, true);
  ASSERT_TRUE(answer.OpenStream());
  EXPECT_TRUE(answer.KeepAlive());
  answer.Fail("cut off");
  EXPECT_TRUE(answer.answered());
  EXPECT_EQ(reply.body,
            std::string(": waiting for a person\n\n") +
                R"(data: {"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"cut off"}})" +
                "\n\n");
}

TEST(McpAgentAnswerTest, FailingAnAnsweredRequestSendsNothingMore) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, true);
  EXPECT_TRUE(answer.Send(kResponse));
  const std::string before = reply.body;
  answer.Fail("late");
  EXPECT_EQ(reply.body, before);
}

TEST(McpAgentAnswerTest, AnAgentThatLeftIsReportedGone) {
  RecordingReply reply;
  McpAgentAnswer answer(reply, 7, true);
  ASSERT_TRUE(answer.OpenStream());
  reply.fail_writes = true;
  EXPECT_FALSE(answer.KeepAlive());
  EXPECT_FALSE(answer.Send(kProgress));
}

}  // namespace
}  // namespace countersign
