#include "http/hook_handlers.hpp"

#include <functional>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>

#include "http/form_data.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;
using Deadline = std::chrono::steady_clock::time_point;

// Runs `start` (which hands its callback to the engine) and completes with the callback's
// value, or with nullopt once `deadline` passes first (a later callback is then dropped).
// Both completions are posted to the awaiting coroutine's executor, the connection's strand,
// so they never race. Not a coroutine itself: like AwaitCallback, it initiates directly.
template <typename T, typename Start>
asio::awaitable<std::optional<T>> AwaitUntil(Deadline deadline, Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::optional<T>)>(
      [deadline, start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        using Executor = asio::associated_executor_t<Handler>;
        Executor executor = asio::get_associated_executor(handler);
        struct State {
          State(Handler h, const Executor& ex, Deadline d) : handler(std::move(h)), timer(ex, d) {}
          void Finish(std::optional<T> value) {
            if (finished) return;
            finished = true;
            timer.cancel();
            std::move(handler)(std::move(value));
          }
          Handler handler;
          asio::steady_timer timer;
          bool finished = false;  // touched only on the executor
        };
        auto state = std::make_shared<State>(std::move(handler), executor, deadline);
        state->timer.async_wait([state](boost::system::error_code ec) {
          if (!ec) state->Finish(std::nullopt);
        });
        start(std::function<void(T)>([state, executor](T value) {
          asio::post(executor, [state, value = std::move(value)]() mutable {
            state->Finish(std::move(value));
          });
        }));
      },
      asio::use_awaitable);
}

HttpResponse Ack() { return TextResponse(http::status::ok, "", "text/plain; charset=utf-8"); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The Events API's endpoint check: {"type": "url_verification", "challenge": "..."}.
std::optional<std::string> UrlVerificationChallenge(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* type = o.if_contains("type");
  const auto* challenge = o.if_contains("challenge");
  if (!type || !challenge || !type->is_string() || !challenge->is_string() ||
      type->get_string() != "url_verification") {
    return std::nullopt;
  }
  return std::string(challenge->get_string());
}

bool IsSslCheck(const std::string& body) {
  auto form = ParseFormData(body);
  if (!form.ok()) return false;
  auto it = form->find("ssl_check");
  return it != form->end() && it->second == "1" && form->find("payload") == form->end();
}

}  // namespace

HookHandlers::HookHandlers(Gateway& gateway, const std::vector<const ChannelSet::Entry*>& slack,
                           std::map<std::string, std::string> identities, Metrics* metrics)
    : gateway_(gateway), identities_(std::move(identities)), metrics_(metrics) {
  for (const auto* entry : slack) slack_.push_back({entry->channel.get(), entry->tenant});
}

void HookHandlers::Register(Router& router) {
  router.Add(http::verb::post, "/hooks/slack", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Slack(ctx); });
}

Actor HookHandlers::PrincipalActor(const std::string& principal, const std::string& tenant) const {
  Actor actor{principal, Role::kApprover, tenant, {}};
  // As for an API call by that principal: its tokens' groups count for "group:NAME".
  auto principals = gateway_.store().ListPrincipals(tenant);
  if (!principals.ok()) return actor;
  for (const auto& p : principals.value()) {
    if (p.name != principal || p.revoked_at) continue;
    for (const auto& group : p.groups) {
      if (!actor.InGroup(group)) actor.groups.push_back(group);
    }
  }
  return actor;
}

asio::awaitable<HttpResponse> HookHandlers::Slack(RequestContext& ctx) {
  const Deadline deadline = std::chrono::steady_clock::now() + kAnswerWithin;
  InboundCallback inbound;
  for (const auto& field : ctx.request) {
    inbound.headers[Lower(field.name_string())] = std::string(field.value());
  }
  inbound.body = ctx.request.body();
  const TimePoint now = gateway_.clock().Now();

  const SlackHook* owner = nullptr;
  std::optional<ChannelCallback> press;
  bool verified = false;
  std::string refusal = "no Slack channel is configured";
  for (const auto& hook : slack_) {
    auto parsed = hook.channel->ParseCallback(inbound, now);
    if (parsed.ok()) {
      owner = &hook;
      press = std::move(parsed).value();
      break;
    }
    const ErrorCode code = parsed.error().code;
    // Unauthorized: not this channel's secret (or stale, or a replay). NotFound: signed with
    // this secret, but a button another channel posted.
    if (code == ErrorCode::kUnauthorized || code == ErrorCode::kNotFound) {
      if (code == ErrorCode::kUnauthorized) refusal = parsed.error().message;
      continue;
    }
    verified = true;
    break;
  }

  if (!press) {
    if (verified) {
      if (auto challenge = UrlVerificationChallenge(inbound.body)) {
        co_return JsonResponse(http::status::ok, boost::json::object{{"challenge", *challenge}});
      }
      co_return Ack();
    }
    if (IsSslCheck(inbound.body)) co_return Ack();
    spdlog::warn("POST /hooks/slack refused: {}", refusal);
    co_return ErrorResponse(Error::Unauthorized("the Slack signature does not verify"));
  }

  const std::string tenant = owner->tenant;
  const std::string id = press->request_id;
  DecisionVia via{owner->channel->name(), press->identity, press->response_url};
  auto mapped = identities_.find(press->identity);
  if (mapped == identities_.end()) {
    std::string reason = "not authorised: Slack user " +
                         press->identity.substr(std::string_view("slack:").size()) +
                         " is not mapped to a principal";
    spdlog::warn("slack: {} ({}) pressed {} on {}: {}", press->identity, press->display_name,
                 press->choice, id, reason);
    auto rejected = co_await AwaitUntil<Result<RequestPtr>>(deadline, [&](auto done) {
      gateway_.RejectCallback(tenant, id, via, reason, std::move(done));
    });
    if (rejected && !rejected->ok()) {
      spdlog::warn("slack: could not record the refusal on {}: {}", id, rejected->error().message);
    }
    co_return Ack();
  }

  const Actor actor = PrincipalActor(mapped->second, tenant);
  NewDecision input;
  input.choice = press->choice;
  input.via = via;
  auto decided = co_await AwaitUntil<Result<RequestPtr>>(
      deadline, [&](auto done) { gateway_.Decide(actor, id, std::move(input), std::move(done)); });
  if (!decided) {
    spdlog::warn("slack: the decision on {} by {} took over {} ms; answered Slack first", id,
                 actor.name, kAnswerWithin.count());
    co_return Ack();
  }
  if (decided->ok()) {
    if (metrics_) metrics_->CountDecision();
    co_return Ack();
  }
  // A refusal (not an approver, already resolved, already voted, ...) is on the record:
  // Decide wrote decision.rejected with `via`, and the outbox tells the person why.
  spdlog::info("slack: {} ({}) could not decide {}: {}", press->identity, actor.name, id,
               decided->error().message);
  co_return Ack();
}

}  // namespace countersign
