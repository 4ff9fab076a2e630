#include "cli/mcp_proxy.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "cli/line_reader.hpp"
#include "mcp/json_rpc.hpp"

namespace countersign {

McpProxy::McpProxy(McpProxySession& session, const ToolRunner& runner, UpstreamProcess& upstream,
                   std::string nonce, McpProxyOptions options, std::FILE* client_output)
    : session_(session),
      upstream_(upstream),
      nonce_(std::move(nonce)),
      options_(options),
      output_(client_output),
      waits_(runner, options.max_waiting) {}

void McpProxy::ServeClient(int input_fd) {
  const LineReader reader(
      options_.max_line_bytes, [this](std::string_view line) { HandleClientLine(line); },
      [this] {
        SendClient(JsonRpcErrorLine(
            nullptr, kJsonRpcParseError,
            "message over " + std::to_string(options_.max_line_bytes) + " bytes: dropped"));
      });
  reader.Read(input_fd);
  client_workers_.Reap();
}

void McpProxy::ServeUpstream() {
  const LineReader reader(
      options_.max_line_bytes, [this](std::string_view line) { HandleUpstreamLine(line); },
      [this] {
        spdlog::warn("the upstream MCP server sent a line over {} bytes: dropped",
                     options_.max_line_bytes);
      });
  reader.Read(upstream_.output_fd());
  upstream_workers_.Reap();
}

void McpProxy::HandleClientLine(std::string_view line) {
  ProxyClientStep step = session_.FromClient(line);
  if (step.hold) {
    Hold(std::move(*step.hold));
    return;
  }
  if (step.cancel && Cancel(McpProxyWaits::Kind::kHeldCall, *step.cancel, client_workers_)) return;
  if (step.to_upstream) SendUpstream(*step.to_upstream);
}

void McpProxy::HandleUpstreamLine(std::string_view line) {
  ProxyUpstreamStep step = session_.FromUpstream(line);
  if (step.to_upstream) SendUpstream(*step.to_upstream);
  if (step.bridge) {
    Bridge(std::move(*step.bridge));
    return;
  }
  if (step.cancel && Cancel(McpProxyWaits::Kind::kElicitation, *step.cancel, upstream_workers_))
    return;
  if (step.to_client) SendClient(*step.to_client);
}

void McpProxy::Hold(ProxyHeldCall call) {
  client_workers_.Reap();
  const std::string key = boost::json::serialize(call.id);
  auto control = waits_.Register(McpProxyWaits::Kind::kHeldCall, key);
  if (!control.ok()) {
    SendClient(McpProxyWaits::RefusedCallLine(call.id, control.error().message));
    return;
  }
  const boost::json::value id = call.id;
  if (!client_workers_.Spawn([this, call = std::move(call), key, control = *control] {
        RunHeld(call, key, control);
      })) {
    waits_.Unregister(McpProxyWaits::Kind::kHeldCall, key);
    SendClient(McpProxyWaits::RefusedCallLine(id, "cannot start a thread for the call"));
  }
}

void McpProxy::RunHeld(const ProxyHeldCall& call, const std::string& key,
                       const std::shared_ptr<ToolCallControl>& control) {
  HeldCallOutcome outcome = waits_.WaitForApproval(
      session_, call, nonce_, *control, [this](std::optional<std::string> line) {
        if (line) SendClient(*line);
        return true;  // a stdio client is there until stdin ends
      });
  waits_.Unregister(McpProxyWaits::Kind::kHeldCall, key);
  if (outcome.to_client) SendClient(*outcome.to_client);
  if (outcome.to_upstream) SendUpstream(*outcome.to_upstream);
}

void McpProxy::Bridge(ProxyBridgedElicitation elicitation) {
  upstream_workers_.Reap();
  const std::string key = boost::json::serialize(elicitation.id);
  auto control = waits_.Register(McpProxyWaits::Kind::kElicitation, key);
  if (!control.ok()) {
    spdlog::warn("elicitation {} answered cancel: {}", key, control.error().message);
    SendUpstream(McpProxyWaits::RefusedElicitationLine(elicitation.id));
    return;
  }
  const boost::json::value id = elicitation.id;
  if (!upstream_workers_.Spawn([this, elicitation = std::move(elicitation), key,
                                control = *control] { RunBridge(elicitation, key, control); })) {
    waits_.Unregister(McpProxyWaits::Kind::kElicitation, key);
    SendUpstream(McpProxyWaits::RefusedElicitationLine(id));
  }
}

void McpProxy::RunBridge(const ProxyBridgedElicitation& elicitation, const std::string& key,
                         const std::shared_ptr<ToolCallControl>& control) {
  auto answer = waits_.AnswerElicitation(elicitation, nonce_, key, *control);
  waits_.Unregister(McpProxyWaits::Kind::kElicitation, key);
  if (answer) SendUpstream(*answer);
}

bool McpProxy::Cancel(McpProxyWaits::Kind kind, const boost::json::value& id,
                      WorkerThreads& workers) {
  return waits_.Cancel(kind, boost::json::serialize(id), [&workers](std::function<void()> work) {
    if (!workers.Spawn(work)) work();
  });
}

void McpProxy::SendClient(const std::string& line) { output_.Write(line); }

void McpProxy::SendUpstream(const std::string& line) {
  if (!upstream_.WriteLine(line)) spdlog::warn("the upstream MCP server no longer reads its input");
}

}  // namespace countersign
