#include "http/claude_code_handlers.hpp"

#include <functional>
#include <utility>

#include <spdlog/spdlog.h>

#include "http/engine_call.hpp"
#include "http/long_poll.hpp"
#include "http/responses.hpp"
#include "http/submit_request.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

HttpResponse Refuse(const Error& error) {
  spdlog::warn("POST {} refused ({}): {}", ClaudeCodeHandlers::kPath,
               static_cast<int>(HttpStatusFor(error.code)), error.message);
  return ErrorResponse(error);
}

HttpResponse DecisionAnswer(ClaudeHookEvent event, const Request& request) {
  return JsonResponse(http::status::ok, ClaudeHookDecision(event, request));
}

// A 2xx with an empty body: Claude Code takes no decision from the hook.
HttpResponse NoDecision() {
  return TextResponse(http::status::ok, "", "text/plain; charset=utf-8");
}

}  // namespace

void ClaudeCodeHandlers::Register(Router& router) {
  // Public to the router: the handler authenticates as the router would (the same
  // authenticator, the same 401), so that it can log the refusal; Claude Code shows the person
  // no more than a non-blocking error.
  router.Add(http::verb::post, kPath, Router::Access::kPublic,
             [this](RequestContext& ctx) { return Hook(ctx); });
}

asio::awaitable<HttpResponse> ClaudeCodeHandlers::Hook(RequestContext& ctx) {
  std::string authorization(ctx.request[http::field::authorization]);
  auto authenticated =
      co_await AuthenticateOffThread(authenticator_, &gateway_, std::move(authorization));
  if (!authenticated.ok()) co_return Refuse(authenticated.error());
  Actor actor = std::move(authenticated).value();
  if (options_.auth_off) actor.name = "claude-code";

  auto wait = IntParam(ctx, "wait", options_.default_wait.count(), 0, options_.max_wait.count());
  if (!wait.ok()) co_return Refuse(wait.error());
  const std::chrono::seconds waited(wait.value());
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return Refuse(body.error());
  auto call = ParseClaudeHookCall(body.value());
  if (!call.ok()) co_return Refuse(call.error());
  const ClaudeHookEvent event = call->event;

  NewRequest input = ClaudeHookRequest(call.value());
  auto created = co_await SubmitRequest(gateway_, metrics_, actor, std::move(input));
  if (!created.ok()) co_return Refuse(created.error());
  // Decided at once by a policy or a grant (or a retried call's request, decided since).
  if (!created->request->pending()) co_return DecisionAnswer(event, *created->request);

  std::string id = created->request->id;
  LongPollFinish finish = [this, event, actor, waited](Result<RequestPtr> current) {
    return Finish(event, actor, waited, std::move(current));
  };
  std::function<void()> gone = [this, actor, id] {
    CancelInBackground(actor, id, kStoppedWaiting);
  };
  co_return co_await AnswerOnceResolved(gateway_, ctx, actor, std::move(id), waited,
                                        std::move(finish), std::move(gone));
}

asio::awaitable<HttpResponse> ClaudeCodeHandlers::Finish(ClaudeHookEvent event, Actor actor,
                                                         std::chrono::seconds waited,
                                                         Result<RequestPtr> current) {
  if (!current.ok()) co_return Refuse(current.error());
  if (!current.value()->pending()) co_return DecisionAnswer(event, *current.value());

  // Nobody decided within the wait (or the server is stopping): the decision goes back to
  // Claude Code, and the request off the approvers' lists.
  const std::string id = current.value()->id;
  std::string reason = kHandedBack;
  auto cancelled = co_await CallEngine<RequestPtr>(
      gateway_, [&](auto done) { gateway_.Cancel(actor, id, std::move(reason), std::move(done)); });
  if (!cancelled.ok()) {
    const Error& error = cancelled.error();
    // Decided just as the wait ran out: that decision stands.
    if (error.code == ErrorCode::kConflict && error.current && !error.current->pending()) {
      co_return DecisionAnswer(event, *error.current);
    }
    spdlog::warn("{}: could not cancel {} after the wait: {}", kPath, id, error.message);
  }
  auto hand_back = ClaudeHookHandBack(event, id, waited);
  if (!hand_back) co_return NoDecision();
  co_return JsonResponse(http::status::ok, *hand_back);
}

void ClaudeCodeHandlers::CancelInBackground(const Actor& actor, const std::string& id,
                                            const char* reason) {
  gateway_.Cancel(actor, id, reason, [id, reason](Result<RequestPtr> cancelled) {
    // A conflict: it was decided meanwhile, and there is nothing to take back.
    if (!cancelled.ok() && cancelled.error().code != ErrorCode::kConflict) {
      spdlog::warn("{}: could not cancel {} ({}): {}", kPath, id, reason,
                   cancelled.error().message);
    }
  });
}

}  // namespace countersign
