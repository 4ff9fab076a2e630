#include "compat/hermes_handlers.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "compat/hermes_bodies.hpp"
#include "compat/hermes_view.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

constexpr std::chrono::seconds kRateWindow{3600};
constexpr size_t kMaxNameBytes = 128;
constexpr int64_t kDefaultAuditLimit = 50;
constexpr int64_t kMaxAuditLimit = 500;

// The daemon's error shape.
HttpResponse Message(http::status status, const std::string& message) {
  return JsonResponse(status, boost::json::object{{"error", message}});
}

// An engine error in the daemon's shape. The daemon answers every bad input with 400, so
// kInvalid (a bad action name, a title too long) does too.
HttpResponse Refusal(const Error& error) {
  const http::status status =
      error.code == ErrorCode::kInvalid ? http::status::bad_request : HttpStatusFor(error.code);
  HttpResponse res = Message(status, error.message);
  SetErrorHeaders(res, error);
  return res;
}

HttpResponse NotFound(const std::string& id) {
  return Message(http::status::not_found, "Confirmation '" + id + "' not found");
}

HttpResponse AlreadyResolved(const Request& r) {
  return JsonResponse(http::status::conflict,
                      boost::json::object{{"error", "Confirmation '" + r.id + "' already resolved"},
                                          {"status", HermesStatus(r)}});
}

HttpResponse CrossSite() {
  return Message(http::status::forbidden,
                 "cross-site browser requests are refused: call this API from a program");
}

asio::awaitable<HttpResponse> AdapterOff(RequestContext&) {
  co_return Message(http::status::not_found,
                    "the Hermes adapter is off: enable it with `[compat.hermes] enabled = true` "
                    "in the config file (countersign serve --config FILE)");
}

const Choice* FirstChoiceLeadingTo(const Request& r, Outcome outcome) {
  auto it = std::find_if(r.choices.begin(), r.choices.end(),
                         [outcome](const Choice& c) { return c.outcome == outcome; });
  return it == r.choices.end() ? nullptr : &*it;
}

bool HasAuthorization(const HttpRequest& request) {
  return request.find(http::field::authorization) != request.end();
}

}  // namespace

HermesHandlers::HermesHandlers(Gateway& gateway, const Clock& clock, Authenticator& authenticator,
                               Metrics& metrics, const HermesOptions& options, bool auth_on,
                               PublicUrl public_url)
    : gateway_(gateway),
      clock_(clock),
      authenticator_(authenticator),
      metrics_(metrics),
      options_(options),
      identity_{options.principal, options.tenant, options.anonymous, auth_on},
      public_url_(std::move(public_url)),
      limiter_(options.rate_limit, kRateWindow) {}

void HermesHandlers::Register(Router& router, bool loopback) {
  using Method = asio::awaitable<HttpResponse> (HermesHandlers::*)(RequestContext&);
  struct Route {
    http::verb verb;
    const char* path;
    Method method;
  };
  const Route routes[] = {{http::verb::post, "/confirm", &HermesHandlers::Submit},
                          {http::verb::post, "/confirm/{id}/approve", &HermesHandlers::Approve},
                          {http::verb::post, "/confirm/{id}/deny", &HermesHandlers::Deny},
                          {http::verb::get, "/confirm/{id}", &HermesHandlers::Show},
                          {http::verb::get, "/audit", &HermesHandlers::Audit},
                          {http::verb::get, "/health", &HermesHandlers::Health}};
  for (const Route& route : routes) {
    if (!options_.enabled) {
      router.Add(route.verb, route.path, Router::Access::kPublic, AdapterOff);
    } else {
      router.Add(
          route.verb, route.path, Router::Access::kPublic,
          [this, method = route.method](RequestContext& ctx) { return (this->*method)(ctx); });
    }
  }
  if (!options_.enabled) return;

  const bool anonymous = identity_.auth_on && options_.anonymous;
  spdlog::info(
      "hermes adapter: /confirm, /audit and /health for tenant {}; calls without a token {}; "
      "rate limit {}",
      options_.tenant,
      !identity_.auth_on ? "act as admin (auth is off)"
      : anonymous        ? "act as agent " + options_.principal
                         : std::string("are refused"),
      options_.rate_limit > 0 ? std::to_string(options_.rate_limit) + " per action per hour"
                              : std::string("off"));
  if (anonymous && !loopback) {
    spdlog::warn(
        "hermes adapter: anyone who can reach this server may submit confirmations as agent {} "
        "without a token; set [compat.hermes] anonymous = false unless that is intended",
        options_.principal);
  }
}

bool HermesHandlers::FromAnotherSite(const HttpRequest& request) const {
  const std::string_view origin = request[http::field::origin];
  if (!origin.empty() && origin != public_url_.origin()) return true;
  const std::string_view site = request["Sec-Fetch-Site"];
  return site == "cross-site" || site == "same-site";
}

asio::awaitable<HttpResponse> HermesHandlers::Submit(RequestContext& ctx) {
  if (FromAnotherSite(ctx.request)) co_return CrossSite();
  auto caller = co_await CompatCaller(authenticator_, gateway_, ctx.request, identity_);
  if (!caller.ok()) co_return Refusal(caller.error());
  if (!caller->CanCreate()) {
    co_return Refusal(Error::Forbidden("role " + std::string(RoleName(caller->role)) +
                                       " may not submit confirmations"));
  }
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) {
    // A body of another type is refused as the v1 API refuses it (415, saying why); anything
    // else unreadable gets the daemon's 400.
    if (body.error().code == ErrorCode::kUnsupportedMediaType) co_return Refusal(body.error());
    co_return Message(http::status::bad_request, "Invalid JSON body");
  }
  auto input = ParseHermesSubmission(body.value());
  if (!input.ok()) co_return Refusal(input.error());
  Actor actor = caller.value();
  if (!identity_.auth_on) {
    // As in the v1 API: with auth off the body names the requester.
    if (input->requester.size() > kMaxNameBytes) {
      co_return Message(http::status::bad_request, "Field 'requester' must be at most 128 bytes");
    }
    actor.name = input->requester;
  }
  const std::string action = input->action;
  if (options_.rate_limit > 0) {
    // The daemon counts only what waits for a person, not what its whitelist decides.
    auto read = [this, actor, submission = input.value()] {
      return gateway_.WouldAskAPerson(actor, submission);
    };
    auto asks = co_await ReadEngine<bool>(gateway_, std::move(read));
    if (!asks.ok()) co_return Refusal(asks.error());
    if (asks.value()) {
      if (int64_t wait = limiter_.Acquire(actor.tenant + '\n' + action, clock_.Now())) {
        HttpResponse res = JsonResponse(
            http::status::too_many_requests,
            boost::json::object{{"error", "Rate limit exceeded for action '" + action + "'"},
                                {"remaining", 0},
                                {"window_seconds", kRateWindow.count()}});
        res.set(http::field::retry_after, std::to_string(wait));
        co_return res;
      }
    }
  }
  auto created = co_await CallEngine<Gateway::Created>(gateway_, [&](auto done) {
    gateway_.Create(actor, std::move(input).value(), std::move(done));
  });
  if (!created.ok()) co_return Refusal(created.error());
  metrics_.CountRequestCreated();
  const Request& r = *created->request;
  if (r.pending()) {
    const std::string base = public_url_.path() + "/confirm/" + r.id;
    co_return JsonResponse(http::status::accepted,
                           boost::json::object{{"id", r.id},
                                               {"action", r.action},
                                               {"status", "pending"},
                                               {"timeout_seconds", HermesTimeoutSeconds(r)},
                                               {"message",
                                                "Confirmation pending. Awaiting "
                                                "human review."},
                                               {"approve_url", base + "/approve"},
                                               {"deny_url", base + "/deny"}});
  }
  // Decided at once by a grant or a policy: the daemon's whitelist answer.
  const std::string status = HermesStatus(r);
  const std::string message = status == "auto_approved"
                                  ? "Action '" + r.action + "' is whitelisted for this session"
                                  : "Action '" + r.action + "' is denied by policy " + r.policy;
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"id", r.id},
                                             {"action", r.action},
                                             {"status", status},
                                             {"message", message},
                                             {"resolved_by", HermesResolvedBy(r)}});
}

asio::awaitable<HttpResponse> HermesHandlers::Approve(RequestContext& ctx) {
  return Resolve(ctx, Outcome::kApproved);
}

asio::awaitable<HttpResponse> HermesHandlers::Deny(RequestContext& ctx) {
  return Resolve(ctx, Outcome::kDenied);
}

asio::awaitable<HttpResponse> HermesHandlers::Resolve(RequestContext& ctx, Outcome outcome) {
  if (FromAnotherSite(ctx.request)) co_return CrossSite();
  auto caller = co_await CompatCaller(authenticator_, gateway_, ctx.request, identity_);
  if (!caller.ok()) co_return Refusal(caller.error());
  const bool approving = outcome == Outcome::kApproved;
  if (!caller->CanDecide()) {
    if (!HasAuthorization(ctx.request)) {
      co_return Refusal(Error::Unauthorized(
          std::string(approving ? "approving" : "denying") +
          " needs an approver's token (Authorization: Bearer cs_...): calls without a token "
          "may only submit and read confirmations"));
    }
    co_return Refusal(Error::Forbidden("role " + std::string(RoleName(caller->role)) +
                                       " may not approve or deny: use an approver's token"));
  }
  // With auth on the token names the decider and the body's name is not used: a display name
  // the caller chose can not stand beside a verified one on the record.
  const HermesResolution body =
      ParseHermesResolution(ctx.request.body(), approving ? "approver" : "denier");
  if (body.duplicate_key) {
    co_return Message(http::status::bad_request,
                      "The body names the key '" + *body.duplicate_key + "' twice");
  }
  Actor actor = caller.value();
  if (!identity_.auth_on) {
    if (body.by.size() > kMaxNameBytes) {
      co_return Message(http::status::bad_request, std::string("Field '") +
                                                       (approving ? "approver" : "denier") +
                                                       "' must be at most 128 bytes");
    }
    actor.name = body.by.empty() ? "api" : body.by;
  }
  const std::string id = ctx.path["id"];
  auto current = co_await GetRequestFrom(gateway_, actor, id);
  if (!current.ok()) {
    if (current.error().code == ErrorCode::kNotFound) co_return NotFound(id);
    co_return Refusal(current.error());
  }
  const Request& before = *current.value();
  if (!before.pending()) co_return AlreadyResolved(before);
  const Choice* choice = FirstChoiceLeadingTo(before, outcome);
  if (!choice) {
    co_return Message(http::status::conflict,
                      "Confirmation '" + id +
                          "' is a question: answer it through POST /v1/requests/" + id +
                          "/decisions");
  }
  NewDecision decision;
  decision.choice = choice->id;
  decision.comment = body.reason;
  auto decided = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
    gateway_.Decide(actor, id, std::move(decision), std::move(done));
  });
  if (!decided.ok()) {
    const Error& e = decided.error();
    if (e.code == ErrorCode::kNotFound) co_return NotFound(id);
    if (e.code == ErrorCode::kConflict && e.current && !e.current->pending()) {
      co_return AlreadyResolved(*e.current);
    }
    if (e.code == ErrorCode::kConflict) {
      // Still pending: this principal has already voted towards a quorum.
      co_return JsonResponse(http::status::conflict,
                             boost::json::object{{"error", e.message}, {"status", "pending"}});
    }
    co_return Refusal(e);
  }
  metrics_.CountDecision();
  const Request& r = *decided.value();
  boost::json::object out{{"id", r.id},
                          {"action", r.action},
                          {"status", HermesStatus(r)},
                          {"resolved_by", HermesResolvedBy(r)},
                          {"resolved_at", HermesResolvedAt(r)}};
  if (!approving && !body.reason.empty()) out["reason"] = body.reason;
  co_return JsonResponse(http::status::ok, out);
}

asio::awaitable<HttpResponse> HermesHandlers::Show(RequestContext& ctx) {
  auto caller = co_await CompatCaller(authenticator_, gateway_, ctx.request, identity_);
  if (!caller.ok()) co_return Refusal(caller.error());
  const std::string id = ctx.path["id"];
  auto found = co_await GetRequestFrom(gateway_, caller.value(), id);
  if (!found.ok()) {
    if (found.error().code == ErrorCode::kNotFound) co_return NotFound(id);
    co_return Refusal(found.error());
  }
  co_return JsonResponse(http::status::ok, HermesConfirmationJson(*found.value()));
}

asio::awaitable<HttpResponse> HermesHandlers::Audit(RequestContext& ctx) {
  auto caller = co_await CompatCaller(authenticator_, gateway_, ctx.request, identity_);
  if (!caller.ok()) co_return Refusal(caller.error());
  // The daemon: int(limit) clamped to 1-500, 50 when int() raises.
  const auto limit = HermesInteger(ctx.Query("limit"));
  RequestFilter filter;
  filter.limit =
      static_cast<int>(limit ? std::clamp<int64_t>(*limit, 1, kMaxAuditLimit) : kDefaultAuditLimit);
  // Gateway::List narrows an agent to its own requests, and any caller to its tenant.
  auto read = [this, actor = caller.value(), filter = std::move(filter)] {
    return gateway_.List(actor, filter);
  };
  auto page = co_await ReadEngine<RequestPage>(gateway_, std::move(read));
  if (!page.ok()) co_return Refusal(page.error());
  boost::json::array entries;
  entries.reserve(page->requests.size());
  for (const auto& r : page->requests) entries.emplace_back(HermesAuditEntryJson(r));
  const auto count = static_cast<int64_t>(entries.size());
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"count", count}, {"entries", std::move(entries)}});
}

asio::awaitable<HttpResponse> HermesHandlers::Health(RequestContext& ctx) {
  auto caller = co_await CompatCaller(authenticator_, gateway_, ctx.request, identity_);
  if (!caller.ok()) co_return Refusal(caller.error());
  auto read = [this, tenant = caller->tenant] { return gateway_.CountPending(tenant); };
  auto count = co_await ReadEngine<int64_t>(gateway_, std::move(read));
  if (!count.ok()) co_return Refusal(count.error());
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"status", "ok"},
                                             {"pending_count", count.value()},
                                             {"timestamp", HermesUnixSeconds(clock_.Now())}});
}

}  // namespace countersign
