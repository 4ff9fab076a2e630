#include "cli/mcp_http_upstream.hpp"

#include <spdlog/spdlog.h>

#include "cli/http_exchange.hpp"
#include "cli/sse_event_reader.hpp"
#include "core/ascii.hpp"

namespace countersign {
namespace {

constexpr std::chrono::seconds kSendTimeout{30};

std::string HeaderOf(const HttpHead& head, const std::string& name) {
  auto it = head.headers.find(name);
  return it == head.headers.end() ? std::string() : it->second;
}

// "text/event-stream; charset=utf-8" -> "text/event-stream".
std::string MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return AsciiLower(content_type);
}

McpUpstreamAnswer AnswerOf(const HttpHead& head) {
  McpUpstreamAnswer answer;
  answer.status = head.status;
  answer.content_type = MediaType(HeaderOf(head, "content-type"));
  answer.session_id = HeaderOf(head, "mcp-session-id");
  return answer;
}

}  // namespace

McpHttpUpstream::McpHttpUpstream(HttpUrl url, std::string url_text, std::string ca_file,
                                 std::vector<HttpHeaderOption> headers,
                                 std::size_t max_message_bytes)
    : url_(std::move(url)),
      url_text_(std::move(url_text)),
      ca_file_(std::move(ca_file)),
      headers_(std::move(headers)),
      max_message_bytes_(max_message_bytes) {}

std::vector<std::pair<std::string, std::string>> McpHttpUpstream::Fields(
    const McpUpstreamSession& session) const {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& header : headers_) fields.emplace_back(header.name, header.value);
  if (!session.session_id.empty()) fields.emplace_back("Mcp-Session-Id", session.session_id);
  if (!session.protocol_version.empty()) {
    fields.emplace_back("MCP-Protocol-Version", session.protocol_version);
  }
  return fields;
}

std::string McpHttpUpstream::Target() const { return url_.prefix.empty() ? "/" : ""; }

Result<McpUpstreamAnswer> McpHttpUpstream::Post(const std::string& message,
                                                const McpUpstreamSession& session, Duration wait,
                                                const Observer& observer) const {
  HttpExchange exchange(url_, "the upstream MCP server at " + url_text_, ca_file_);
  auto fields = Fields(session);
  fields.emplace_back("Content-Type", "application/json");
  fields.emplace_back("Accept", "application/json, text/event-stream");
  CS_RETURN_IF_ERROR(exchange.Send("POST", Target(), fields, &message, kSendTimeout));
  auto head = exchange.ReadHead(wait);
  if (!head.ok()) return std::move(head).error();
  McpUpstreamAnswer answer = AnswerOf(*head);
  if (observer.head) observer.head(answer);
  if (answer.status / 100 != 2 || answer.content_type != "text/event-stream") {
    auto body = exchange.ReadBody(max_message_bytes_, wait);
    if (!body.ok()) return std::move(body).error();
    answer.body = std::move(body).value();
    return answer;
  }
  answer.streamed = true;
  SseEventReader reader(max_message_bytes_);
  for (;;) {
    auto piece = exchange.ReadSome(wait);
    if (!piece.ok()) return std::move(piece).error();
    if (!piece->has_value()) break;
    const std::size_t dropped = reader.dropped();
    for (auto& event : reader.Feed(**piece)) {
      if (!observer.message(std::move(event))) return answer;
    }
    if (reader.dropped() != dropped) {
      spdlog::warn("the upstream MCP server at {} sent an event over {} bytes: dropped", url_text_,
                   max_message_bytes_);
    }
  }
  return answer;
}

Result<McpUpstreamAnswer> McpHttpUpstream::Delete(const McpUpstreamSession& session,
                                                  Duration wait) const {
  HttpExchange exchange(url_, "the upstream MCP server at " + url_text_, ca_file_);
  CS_RETURN_IF_ERROR(exchange.Send("DELETE", Target(), Fields(session), nullptr, kSendTimeout));
  auto head = exchange.ReadHead(wait);
  if (!head.ok()) return std::move(head).error();
  McpUpstreamAnswer answer = AnswerOf(*head);
  auto body = exchange.ReadBody(max_message_bytes_, wait);
  if (!body.ok()) return std::move(body).error();
  answer.body = std::move(body).value();
  return answer;
}

}  // namespace countersign
