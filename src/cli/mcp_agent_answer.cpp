#include "cli/mcp_agent_answer.hpp"

#include <boost/json/serialize.hpp>

#include "mcp/json_rpc.hpp"

namespace countersign {
namespace {

constexpr int kBadGateway = 502;

}  // namespace

McpAgentAnswer::McpAgentAnswer(AgentHttpServer::Reply& reply, boost::json::value request_id,
                               bool takes_sse)
    : reply_(reply),
      request_id_(std::move(request_id)),
      request_key_(request_id_.is_null() ? std::string() : boost::json::serialize(request_id_)),
      takes_sse_(takes_sse) {}

void McpAgentAnswer::AddField(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

bool McpAgentAnswer::OpenStream() {
  if (streaming_) return !gone_;
  if (started_ || !takes_sse_) return false;
  started_ = true;
  streaming_ = true;
  AgentHttpServer::Fields fields = fields_;
  fields.emplace_back("Content-Type", "text/event-stream");
  fields.emplace_back("X-Accel-Buffering", "no");
  gone_ = !reply_.OpenStream(fields);
  return !gone_;
}

bool McpAgentAnswer::IsResponse(const std::string& message) const {
  if (request_key_.empty()) return false;
  auto value = ParseJsonRpcText(message);
  if (!value.ok()) return false;
  auto read = ReadJsonRpcMessage(*value);
  return read.ok() && read->kind == JsonRpcKind::kResponse &&
         boost::json::serialize(read->id) == request_key_;
}

bool McpAgentAnswer::Send(const std::string& message) {
  if (gone_) return false;
  const bool response = IsResponse(message);
  if (!streaming_) {
    if (started_) return true;  // a JSON answer went out: nothing more fits
    if (response && (prefer_json_ || !takes_sse_)) {
      answered_ = true;
      Respond(200, "application/json", message);
      return !gone_;
    }
    if (!takes_sse_) return true;  // a JSON-only agent gets the response alone
    if (!OpenStream()) return false;
  }
  if (response) answered_ = true;
  gone_ = !reply_.Write("data: " + message + "\n\n");
  return !gone_;
}

bool McpAgentAnswer::KeepAlive() {
  if (!streaming_) return !gone_;
  gone_ = !reply_.Write(": waiting for a person\n\n");
  return !gone_;
}

void McpAgentAnswer::Respond(int status, const std::string& content_type, const std::string& body) {
  if (started_) return;
  started_ = true;
  AgentHttpServer::Fields fields = fields_;
  if (!content_type.empty()) fields.emplace_back("Content-Type", content_type);
  gone_ = !reply_.Respond(status, fields, body);
}

void McpAgentAnswer::Fail(const std::string& message) {
  if (answered_) return;
  const std::string line = JsonRpcErrorLine(request_id_, kJsonRpcInternalError, message);
  if (!started_) {
    Respond(kBadGateway, "application/json", line);
    return;
  }
  if (streaming_ && !request_key_.empty()) (void)Send(line);
}

}  // namespace countersign
