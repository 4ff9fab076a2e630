#include "mcp/tool_runner.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <boost/json/serialize.hpp>

#include "core/sha256.hpp"
#include "mcp/tool_arguments.hpp"
#include "mcp/tool_progress.hpp"
#include "mcp/tool_results.hpp"

namespace countersign {
namespace {

constexpr std::chrono::seconds kMaxSlice(60);  // the gateway's longest long-poll

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

bool Retryable(const Error& error) { return error.code == ErrorCode::kUnavailable; }

boost::json::object GatewayFailure(McpTool tool, const Error& error) {
  return ToolFailureResult(tool, FailureForGatewayError(error), error.message);
}

}  // namespace

ToolRunner::ToolRunner(GatewayApi& gateway, Clock& clock, ToolRunnerOptions options)
    : gateway_(gateway), clock_(clock), options_(std::move(options)) {
  options_.progress_interval =
      std::clamp(options_.progress_interval, std::chrono::seconds(1), kMaxSlice);
}

std::optional<boost::json::object> ToolRunner::Run(const ToolCall& call, ToolCallControl& control,
                                                   const ProgressSink& progress) const {
  if (McpToolWaits(call.tool)) return RunWaiting(call, control, progress);
  boost::json::object result = RunOnce(call);
  if (control.cancelled()) return std::nullopt;
  return result;
}

boost::json::object ToolRunner::RunOnce(const ToolCall& call) const {
  auto id = RequestIdArgument(call.arguments);
  if (!id.ok()) {
    return ToolFailureResult(call.tool, McpToolFailure::kInvalidArguments, id.error().message);
  }
  Result<boost::json::object> request = Error::Internal("not run");
  if (call.tool == McpTool::kCancelRequest) {
    auto reason = CancelReasonArgument(call.arguments);
    if (!reason.ok()) {
      return ToolFailureResult(call.tool, McpToolFailure::kInvalidArguments,
                               reason.error().message);
    }
    request = gateway_.CancelRequest(*id, *reason);
  } else {
    request = WithRetries([&] { return gateway_.GetRequest(*id); }, nullptr);
  }
  if (!request.ok()) return GatewayFailure(call.tool, request.error());
  return ToolResultForRequest(call.tool, *request);
}

std::optional<boost::json::object> ToolRunner::RunWaiting(const ToolCall& call,
                                                          ToolCallControl& control,
                                                          const ProgressSink& progress) const {
  auto body = RequestBodyFor(call.tool, call.arguments);
  if (!body.ok()) {
    return ToolFailureResult(call.tool, McpToolFailure::kInvalidArguments, body.error().message);
  }
  if (!call.idempotency_key.empty()) (*body)["idempotency_key"] = call.idempotency_key;
  auto waited = CreateAndWait(call.tool, *body, call.progress_token, control, progress);
  if (!waited.ok()) return GatewayFailure(call.tool, waited.error());
  if (!waited->has_value()) return std::nullopt;
  return ToolResultForRequest(call.tool, **waited);
}

Result<std::optional<boost::json::object>> ToolRunner::CreateAndWait(
    McpTool tool, const boost::json::object& body, const boost::json::value& progress_token,
    ToolCallControl& control, const ProgressSink& progress) const {
  using Waited = std::optional<boost::json::object>;
  if (control.cancelled()) return Waited();
  auto created = WithRetries([&] { return gateway_.CreateRequest(body); }, &control);
  if (!created.ok()) {
    if (control.cancelled()) return Waited();
    return std::move(created).error();
  }
  boost::json::object request = std::move(created).value();
  const std::string id = StringAt(request, "id");
  if (control.RequestCreated(id)) {
    (void)CancelForClient(id);
    return Waited();
  }
  const std::string message = McpWaitingMessage(tool, request);
  std::int64_t slices = 0;
  while (StringAt(request, "status") == "pending") {
    auto polled = WithRetries(
        [&] { return gateway_.WaitForRequest(id, options_.progress_interval); }, &control);
    if (control.cancelled()) return Waited();
    if (!polled.ok()) {
      Error error = std::move(polled).error();
      if (Retryable(error)) {
        error.message +=
            "; request " + id + " is still pending on the gateway: read it later with get_request";
      }
      return error;
    }
    request = std::move(polled).value();
    if (StringAt(request, "status") == "pending" && !progress_token.is_null() && progress) {
      progress(McpProgressParams(progress_token, ++slices, message));
    }
  }
  return Waited(std::move(request));
}

Status ToolRunner::ConsumeIfSingleUse(const boost::json::object& request) const {
  if (StringAt(request, "receipt_use") != "single_use") return Ok();
  const std::string receipt = StringAt(request, "receipt");
  if (receipt.empty()) return Error::Invalid("a single-use approval without a receipt");
  // Not retried: a use whose answer was lost may have counted, and a second try would
  // then be refused as consumed by this very proxy.
  auto consumed = gateway_.ConsumeReceipt(receipt);
  if (!consumed.ok()) return std::move(consumed).error();
  return Ok();
}

Status ToolRunner::CancelForClient(const std::string& id) const {
  auto cancelled = gateway_.CancelRequest(id, std::string(kMcpCancelReason));
  if (!cancelled.ok()) return std::move(cancelled).error();
  return Ok();
}

Result<boost::json::object> ToolRunner::WithRetries(
    const std::function<Result<boost::json::object>()>& attempt,
    const ToolCallControl* control) const {
  auto result = attempt();
  for (Millis pause : options_.retry_pauses) {
    if (result.ok() || !Retryable(result.error())) break;
    if (control != nullptr && control->cancelled()) break;
    Pause(pause);
    result = attempt();
  }
  return result;
}

void ToolRunner::Pause(Millis pause) const {
  if (pause <= Millis(0)) return;
  std::mutex mu;
  std::condition_variable never_notified;
  std::unique_lock<std::mutex> lock(mu);
  const TimePoint until = clock_.Now() + pause;
  while (clock_.Now() < until) clock_.WaitUntil(lock, never_notified, until);
}

std::string ToolRunner::IdempotencyKey(std::string_view session_nonce,
                                       const boost::json::value& request_id) {
  std::string material(session_nonce);
  material += '\n';
  material += boost::json::serialize(request_id);
  return "mcp-" + Sha256Hex(material).substr(0, 40);
}

}  // namespace countersign
