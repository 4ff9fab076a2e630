#include "http/mcp_handlers.hpp"

#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>

#include "core/canonical_json.hpp"
#include "core/request_json.hpp"
#include "core/sha256.hpp"
#include "engine/new_request.hpp"
#include "http/engine_call.hpp"
#include "http/mcp_waiting_call.hpp"
#include "http/responses.hpp"
#include "http/submit_request.hpp"
#include "mcp/json_rpc.hpp"
#include "mcp/tool_arguments.hpp"
#include "mcp/tool_results.hpp"
#include "mcp/tool_runner.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

// The code of a refusal by the transport rather than by the protocol (as the official SDKs'
// servers use it).
constexpr std::int64_t kTransportError = -32000;
constexpr char kSessionHeader[] = "Mcp-Session-Id";
constexpr char kVersionHeader[] = "MCP-Protocol-Version";

// A refusal: `status`, a JSON-RPC error without an id, and the headers `error` calls for
// (WWW-Authenticate on 401, Retry-After on 503).
HttpResponse Refuse(http::status status, const Error& error, std::int64_t code = kTransportError) {
  HttpResponse response =
      TextResponse(status, JsonRpcErrorLine(nullptr, code, error.message), "application/json");
  SetErrorHeaders(response, error);
  return response;
}

HttpResponse Refuse(const Error& error) { return Refuse(HttpStatusFor(error.code), error); }

// One JSON-RPC message answering a request: JSON when the client takes it, else a one-event
// stream.
HttpResponse Answer(const std::string& line, McpAcceptable acceptable, McpHttpSession* session) {
  if (acceptable.json || session == nullptr) {
    return TextResponse(http::status::ok, line, "application/json");
  }
  HttpResponse response =
      TextResponse(http::status::ok, "id: " + session->NextEventId() + "\ndata: " + line + "\n\n",
                   "text/event-stream");
  response.set(http::field::cache_control, "no-store");
  return response;
}

HttpResponse Accepted() {
  HttpResponse response = TextResponse(http::status::accepted, "", "application/json");
  response.erase(http::field::content_type);
  return response;
}

std::string OwnerOf(const Actor& actor) { return actor.tenant + "\n" + actor.name; }

}  // namespace

McpHandlers::McpHandlers(Gateway& gateway, Authenticator& authenticator, Metrics& metrics,
                         McpHttpOptions options)
    : gateway_(gateway),
      authenticator_(authenticator),
      metrics_(metrics),
      options_(std::move(options)),
      sessions_(gateway.alarms().clock(), McpServerIdentity{"countersign", options_.server_version},
                options_.sessions) {}

void McpHandlers::Register(Router& router) {
  // Public to the router: the handlers check the Origin before the token, and answer
  // refusals as JSON-RPC errors. GET is left to the router: 405 with Allow: POST, DELETE.
  router.Add(http::verb::post, kPath, Router::Access::kPublic,
             [this](RequestContext& ctx) { return Post(ctx); });
  router.Add(http::verb::delete_, kPath, Router::Access::kPublic,
             [this](RequestContext& ctx) { return Delete(ctx); });
}

asio::awaitable<Result<Actor>> McpHandlers::Admit(const RequestContext& ctx) {
  if (!McpOriginAllowed(ctx.request[http::field::origin], options_.public_origin,
                        options_.loopback_listener)) {
    co_return Error::Forbidden("requests from web pages of other origins are refused");
  }
  std::string authorization(ctx.request[http::field::authorization]);
  auto actor = co_await AuthenticateOffThread(authenticator_, &gateway_, std::move(authorization));
  if (!actor.ok()) co_return std::move(actor).error();
  if (options_.auth_off) actor->name = "mcp";
  co_return actor;
}

Result<std::shared_ptr<McpHttpSession>> McpHandlers::SessionOf(const RequestContext& ctx,
                                                               const Actor& actor) {
  const std::string_view id = ctx.request[kSessionHeader];
  if (id.empty()) {
    return Error::Malformed(std::string(kSessionHeader) +
                            " is required: send the id the initialize response gave");
  }
  auto session = IsMcpSessionId(id) ? sessions_.Find(id, OwnerOf(actor)) : nullptr;
  if (!session) {
    return Error::NotFound("no such MCP session (it ended or expired): initialize a new one");
  }
  return session;
}

asio::awaitable<HttpResponse> McpHandlers::Post(RequestContext& ctx) {
  auto admitted = co_await Admit(ctx);
  if (!admitted.ok()) co_return Refuse(admitted.error());
  Actor actor = std::move(admitted).value();
  const McpAcceptable acceptable = ReadMcpAccept(ctx.request[http::field::accept]);
  if (!acceptable.json && !acceptable.sse) {
    co_return Refuse(http::status::not_acceptable,
                     Error::Malformed("Accept must allow application/json or text/event-stream"));
  }
  const std::string& body = ctx.request.body();
  auto parsed = ParseJsonRpcText(body);
  if (!parsed.ok()) {
    co_return Refuse(http::status::bad_request, parsed.error(), kJsonRpcParseError);
  }
  auto message = ReadJsonRpcMessage(*parsed);
  if (!message.ok()) {
    HttpResponse response =
        TextResponse(http::status::bad_request,
                     JsonRpcErrorLine(ReadableJsonRpcId(*parsed), kJsonRpcInvalidRequest,
                                      message.error().message),
                     "application/json");
    co_return response;
  }
  if (message->kind == JsonRpcKind::kRequest && message->method == "initialize") {
    co_return co_await Initialize(actor, body, acceptable);
  }

  auto session = SessionOf(ctx, actor);
  if (!session.ok()) co_return Refuse(session.error());
  if (Status version = CheckMcpProtocolVersion(ctx.request[kVersionHeader]); !version.ok()) {
    co_return Refuse(version.error());
  }
  McpHttpSession& current = **session;
  McpStep step = current.Handle(body);
  if (message->kind != JsonRpcKind::kRequest) {
    if (step.cancel) CancelCall(actor, current, *step.cancel);
    co_return Accepted();
  }
  if (step.reply) co_return Answer(*step.reply, acceptable, &current);
  if (!step.call) {
    co_return Refuse(http::status::internal_server_error, Error::Internal("no answer"),
                     kJsonRpcInternalError);
  }
  metrics_.CountMcpToolCall();
  co_return co_await CallTool(ctx, std::move(actor), std::move(session).value(),
                              std::move(*step.call), acceptable);
}

asio::awaitable<HttpResponse> McpHandlers::Initialize(const Actor& actor, const std::string& body,
                                                      McpAcceptable acceptable) {
  auto created = sessions_.Create(OwnerOf(actor));
  if (!created.ok()) co_return Refuse(created.error());
  std::shared_ptr<McpHttpSession> session = std::move(created).value();
  McpStep step = session->Handle(body);
  const std::string line = step.reply.value_or(
      JsonRpcErrorLine(nullptr, kJsonRpcInternalError, "initialize gave no answer"));
  if (!session->initialized()) {
    // Refused (no protocolVersion, say): no session comes of it.
    sessions_.Remove(session->id(), OwnerOf(actor));
    co_return Answer(line, acceptable, nullptr);
  }
  metrics_.CountMcpSession();
  HttpResponse response = Answer(line, acceptable, session.get());
  response.set(kSessionHeader, session->id());
  co_return response;
}

asio::awaitable<HttpResponse> McpHandlers::CallTool(RequestContext& ctx, Actor actor,
                                                    std::shared_ptr<McpHttpSession> session,
                                                    McpToolInvocation call,
                                                    McpAcceptable acceptable) {
  const McpTool tool = call.tool;
  if (!McpToolWaits(tool)) {
    boost::json::object result = co_await RunOnce(actor, call);
    co_return Answer(ToolCallResultLine(call.id, std::move(result)), acceptable, session.get());
  }
  const auto answer_failure = [&](McpToolFailure failure, const std::string& why) {
    return Answer(ToolCallResultLine(call.id, ToolFailureResult(tool, failure, why)), acceptable,
                  session.get());
  };
  auto body = RequestBodyFor(tool, call.arguments);
  if (!body.ok()) co_return answer_failure(McpToolFailure::kInvalidArguments, body.error().message);
  // A retried call (same session, same JSON-RPC id) finds the request the first one made.
  (*body)["idempotency_key"] = ToolRunner::IdempotencyKey(session->nonce(), call.id);
  auto input = ParseNewRequest(*body);
  if (!input.ok()) {
    co_return answer_failure(FailureForGatewayError(input.error()), input.error().message);
  }
  input->body_sha256 = Sha256Hex(CanonicalJson(*body));

  // Registered before the create, so that a cancel arriving meanwhile is not lost.
  const std::string key = boost::json::serialize(call.id);
  McpWaitingCallSetup setup;
  setup.invocation = call;
  setup.actor = actor;
  setup.session = session;
  setup.call_key = key;
  setup.sse = acceptable.sse;
  setup.progress_interval = options_.progress_interval;
  auto executor = co_await asio::this_coro::executor;
  auto waiting = std::make_shared<McpWaitingCall>(executor, gateway_, sessions_, std::move(setup));
  if (!session->AddCall(key,
                        McpHttpSession::Call{waiting->control(), [waiting] { waiting->Wake(); }})) {
    const std::string line = JsonRpcErrorLine(call.id, kJsonRpcInvalidRequest,
                                              "id " + Echo(key) +
                                                  " is already in use by a call "
                                                  "in flight");
    co_return Answer(line, acceptable, session.get());
  }
  auto created = co_await SubmitRequest(gateway_, metrics_, actor, std::move(input).value());
  if (!created.ok()) {
    session->RemoveCall(key);
    co_return answer_failure(FailureForGatewayError(created.error()), created.error().message);
  }
  RequestPtr request = created->request;
  if (waiting->control()->RequestCreated(request->id)) {
    // The client cancelled while the request was being made.
    if (request->pending()) CancelInBackground(actor, request->id);
  } else if (!request->pending()) {
    // Decided at once (a policy, a grant), or a retried call's request, decided since.
    session->RemoveCall(key);
    co_return Answer(
        ToolCallResultLine(call.id, ToolResultForRequest(tool, RequestToJson(*request))),
        acceptable, session.get());
  }
  ctx.abandon = [waiting] { waiting->Abandon(); };
  ctx.streamed = [waiting, request](ResponseStream& out) { return waiting->Stream(out, request); };
  co_return HttpResponse();
}

asio::awaitable<boost::json::object> McpHandlers::RunOnce(Actor actor, McpToolInvocation call) {
  auto id = RequestIdArgument(call.arguments);
  if (!id.ok()) {
    co_return ToolFailureResult(call.tool, McpToolFailure::kInvalidArguments, id.error().message);
  }
  Result<RequestPtr> request = Error::Internal("not run");
  if (call.tool == McpTool::kCancelRequest) {
    auto reason = CancelReasonArgument(call.arguments);
    if (!reason.ok()) {
      co_return ToolFailureResult(call.tool, McpToolFailure::kInvalidArguments,
                                  reason.error().message);
    }
    request = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
      gateway_.Cancel(actor, *id, std::move(reason).value(), std::move(done));
    });
  } else {
    request = co_await GetRequestFrom(gateway_, actor, *id);
  }
  if (!request.ok()) {
    const Error& error = request.error();
    co_return ToolFailureResult(call.tool, FailureForGatewayError(error), error.message);
  }
  co_return ToolResultForRequest(call.tool, RequestToJson(*request.value()));
}

void McpHandlers::CancelCall(const Actor& actor, McpHttpSession& session,
                             const boost::json::value& id) {
  auto call = session.FindCall(boost::json::serialize(id));
  if (!call) return;  // finished already, or never known: ignored, as MCP says
  auto request_id = call->control->Cancel();
  call->wake();
  // Without an id the call has no request yet, and cancels it itself once it has.
  if (request_id) CancelInBackground(actor, *request_id);
}

void McpHandlers::CancelInBackground(const Actor& actor, const std::string& request_id) {
  gateway_.Cancel(actor, request_id, std::string(kMcpCancelReason),
                  [request_id](Result<RequestPtr> cancelled) {
                    // A conflict: it was decided meanwhile, and there is nothing to take back.
                    if (!cancelled.ok() && cancelled.error().code != ErrorCode::kConflict) {
                      spdlog::warn("{}: could not cancel {} for the MCP client: {}",
                                   McpHandlers::kPath, request_id, cancelled.error().message);
                    }
                  });
}

asio::awaitable<HttpResponse> McpHandlers::Delete(RequestContext& ctx) {
  auto admitted = co_await Admit(ctx);
  if (!admitted.ok()) co_return Refuse(admitted.error());
  auto session = SessionOf(ctx, admitted.value());
  if (!session.ok()) co_return Refuse(session.error());
  sessions_.Remove((*session)->id(), OwnerOf(admitted.value()));
  co_return TextResponse(http::status::no_content, "", "application/json");
}

}  // namespace countersign
