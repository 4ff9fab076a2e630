#include "http/api_handlers.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/use_awaitable.hpp>

#include "core/canonical_json.hpp"
#include "core/conversation_json.hpp"
#include "core/id_generator.hpp"
#include "core/request_json.hpp"
#include "core/time_format.hpp"
#include "engine/lifecycle.hpp"
#include "http/await_callback.hpp"
#include "http/engine_call.hpp"
#include "http/long_poll.hpp"
#include "http/responses.hpp"
#include "http/submit_request.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

boost::json::object PrincipalToJson(const Principal& p) {
  boost::json::object o{{"id", p.id},
                        {"name", p.name},
                        {"role", RoleName(p.role)},
                        {"tenant", p.tenant},
                        {"groups", StringsToJson(p.groups)},
                        {"created_at", FormatTime(p.created_at)}};
  if (p.revoked_at) {
    o["revoked_at"] = FormatTime(*p.revoked_at);
  } else {
    o["revoked_at"] = nullptr;
  }
  return o;
}

HttpResponse RequestResponse(http::status status, const Request& r) {
  std::string text;
  text.reserve(2048);
  AppendRequestJson(r, text);
  text.push_back('\n');
  return TextResponse(status, std::move(text), "application/json");
}

std::string BodyString(const boost::json::value& body, const char* key) {
  if (!body.is_object()) return {};
  const auto* v = body.get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// How many pending requests one `decidable=true` page looks through at most, so that a
// caller who may decide few of many pending requests gets a page in bounded time.
constexpr int kDecidableScan = 1000;

// Whether `actor` may decide `r` now: an eligible approver that is not its requester and has
// not decided it yet (the checks of the decision itself, short of the choice). Conversations
// are settled in their chat, not by a decision, as the inbox leaves them out too.
bool MayDecideNow(const Actor& actor, const Request& r, const PolicySet& policies) {
  if (!r.pending() || r.kind == Kind::kConversation || !actor.CanDecide()) return false;
  if (r.requester == actor.name || !IsEligibleApprover(actor, r, policies)) return false;
  return std::none_of(r.decisions.begin(), r.decisions.end(),
                      [&](const Decision& d) { return d.principal == actor.name; });
}

// The page of `decidable=true`: up to `filter.limit` pending requests `actor` may decide, newest
// first, read page by page until the page is full, the requests run out or kDecidableScan were
// looked at; `next_cursor` continues after the last one looked at that the page did not take.
Result<RequestPage> ListDecidable(Gateway& gateway, const Actor& actor, RequestFilter filter) {
  RequestPage out;
  if (!actor.CanDecide()) return out;
  const auto policies = gateway.Policies();
  const size_t wanted = static_cast<size_t>(filter.limit);
  int scanned = 0;
  for (;;) {
    filter.limit = std::min(500, kDecidableScan - scanned);
    auto page = gateway.List(actor, filter);
    if (!page.ok()) return std::move(page).error();
    for (Request& r : page->requests) {
      ++scanned;
      if (!MayDecideNow(actor, r, *policies)) continue;
      out.requests.push_back(std::move(r));
      if (out.requests.size() == wanted) {
        // Ids sort by creation: the next page starts below the last one taken.
        out.next_cursor = out.requests.back().id;
        return out;
      }
    }
    if (page->next_cursor.empty()) return out;
    filter.cursor = page->next_cursor;
    if (scanned >= kDecidableScan) {
      out.next_cursor = filter.cursor;
      return out;
    }
  }
}

}  // namespace

void ApiHandlers::Register(Router& router) {
  using A = Router::Access;
  auto bind = [this](auto method) {
    return [this, method](RequestContext& ctx) { return (this->*method)(ctx); };
  };
  router.Add(http::verb::post, "/v1/requests", A::kAuthenticated,
             bind(&ApiHandlers::CreateRequest));
  router.Add(http::verb::get, "/v1/requests", A::kAuthenticated, bind(&ApiHandlers::ListRequests));
  router.Add(http::verb::get, "/v1/requests/{id}", A::kAuthenticated,
             bind(&ApiHandlers::GetRequest));
  router.Add(http::verb::get, "/v1/requests/{id}/wait", A::kAuthenticated,
             bind(&ApiHandlers::WaitRequest));
  router.Add(http::verb::post, "/v1/requests/{id}/decisions", A::kAuthenticated,
             bind(&ApiHandlers::Decide));
  router.Add(http::verb::post, "/v1/requests/{id}/cancel", A::kAuthenticated,
             bind(&ApiHandlers::Cancel));
  router.Add(http::verb::post, "/v1/requests/{id}/outcome", A::kAuthenticated,
             bind(&ApiHandlers::ReportOutcome));
  router.Add(http::verb::get, "/v1/audit", A::kAuthenticated, bind(&ApiHandlers::ListAudit));
  router.Add(http::verb::get, "/v1/audit/verify", A::kAuthenticated,
             bind(&ApiHandlers::VerifyAudit));
  router.Add(http::verb::post, "/v1/tokens", A::kAuthenticated, bind(&ApiHandlers::CreateToken));
  router.Add(http::verb::get, "/v1/tokens", A::kAuthenticated, bind(&ApiHandlers::ListTokens));
  router.Add(http::verb::delete_, "/v1/tokens/{id}", A::kAuthenticated,
             bind(&ApiHandlers::RevokeToken));
  router.Add(http::verb::post, "/v1/grants", A::kAuthenticated, bind(&ApiHandlers::CreateGrant));
  router.Add(http::verb::get, "/v1/grants", A::kAuthenticated, bind(&ApiHandlers::ListGrants));
  router.Add(http::verb::delete_, "/v1/grants/{id}", A::kAuthenticated,
             bind(&ApiHandlers::RevokeGrant));
}

Result<Actor> ApiHandlers::ActorFor(const RequestContext& ctx, const std::string& body_name,
                                    bool name_required) const {
  Actor actor = ctx.actor;
  if (!options_.auth_off) return actor;
  // Trimmed, so that "alice " cannot approve what "alice" asked (separation of duties).
  std::string_view name = body_name;
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (name.empty()) {
    if (name_required) return Error::Invalid("by is required when auth is off");
    return actor;
  }
  if (name.size() > 128) return Error::Invalid("the name in the body is too long");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error::Invalid("the name in the body has a control character");
    }
  }
  actor.name = std::string(name);
  return actor;
}

asio::awaitable<HttpResponse> ApiHandlers::CreateRequest(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  auto input = ParseNewRequest(body.value());
  if (!input.ok()) co_return ErrorResponse(input.error());
  if (Status key =
          TakeIdempotencyKey(ctx, body.value(), input->idempotency_key, input->body_sha256);
      !key.ok()) {
    co_return ErrorResponse(key.error());
  }
  auto actor = ActorFor(ctx, input->requester.empty() ? "anonymous" : input->requester, false);
  if (!actor.ok()) co_return ErrorResponse(actor.error());
  // The server will call this URL for the agent: refuse at once what the outbound policy
  // refuses by the URL alone (the transport checks the resolved address again).
  if (!input->callback_url.empty()) {
    Status allowed = options_.outbound.CheckUrl("callback_url", input->callback_url);
    if (!allowed.ok()) co_return ErrorResponse(allowed.error());
  }
  auto created =
      co_await SubmitRequest(gateway_, metrics_, actor.value(), std::move(input).value());
  if (!created.ok()) co_return ErrorResponse(created.error());
  const http::status status = created->replayed ? http::status::ok : http::status::created;
  if (created->warnings.empty()) co_return RequestResponse(status, *created->request);
  boost::json::object answer = RequestToJson(*created->request);
  boost::json::array warnings;
  for (const auto& w : created->warnings) warnings.emplace_back(w);
  answer["warnings"] = std::move(warnings);
  co_return JsonResponse(status, answer);
}

asio::awaitable<HttpResponse> ApiHandlers::GetRequest(RequestContext& ctx) {
  auto found = co_await GetRequestFrom(gateway_, ctx.actor, ctx.path["id"]);
  if (!found.ok()) co_return ErrorResponse(found.error());
  if (found.value()->kind == Kind::kConversation) {
    // A conversation's request shows where the chat is, which the request alone does not say.
    const Actor actor = ctx.actor;
    const std::string id = found.value()->id;
    auto read = [this, actor, id] { return gateway_.GetConversation(actor, id); };
    auto conversation = co_await ReadEngine<Conversation>(gateway_, std::move(read));
    if (!conversation.ok()) co_return ErrorResponse(conversation.error());
    boost::json::object out = RequestToJson(*found.value());
    out["conversation"] = ConversationView(conversation.value());
    co_return JsonResponse(http::status::ok, out);
  }
  co_return TextResponse(http::status::ok, *bodies_.Body(found.value()), "application/json");
}

asio::awaitable<HttpResponse> ApiHandlers::ListRequests(RequestContext& ctx) {
  RequestFilter filter;
  if (auto status = ctx.Query("status"); !status.empty()) {
    filter.status = ParseStatus(status);
    if (!filter.status) co_return ErrorResponse(Error::Invalid("unknown status"));
  }
  filter.action = ctx.Query("action");
  filter.requester = ctx.Query("requester");
  filter.session = ctx.Query("session");
  filter.cursor = ctx.Query("cursor");
  if (!filter.cursor.empty() && !IsWellFormedId(filter.cursor, "req_")) {
    co_return ErrorResponse(Error::Malformed("cursor is not one this server issued"));
  }
  auto limit = IntParam(ctx, "limit", 50, 1, 500);
  if (!limit.ok()) co_return ErrorResponse(limit.error());
  filter.limit = static_cast<int>(limit.value());
  const std::string_view decidable = ctx.Query("decidable");
  if (!decidable.empty() && decidable != "true" && decidable != "false") {
    co_return ErrorResponse(Error::Malformed("decidable must be true or false"));
  }
  const bool only_decidable = decidable == "true";
  if (only_decidable) {
    if (filter.status && *filter.status != RequestStatus::kPending) {
      co_return ErrorResponse(Error::Invalid("decidable=true lists pending requests only"));
    }
    filter.status = RequestStatus::kPending;
  }
  const Actor actor = ctx.actor;  // captures take locals, never coroutine parameters
  auto read = [this, actor, only_decidable, filter = std::move(filter)] {
    return only_decidable ? ListDecidable(gateway_, actor, filter) : gateway_.List(actor, filter);
  };
  auto page = co_await ReadEngine<RequestPage>(gateway_, std::move(read));
  if (!page.ok()) co_return ErrorResponse(page.error());
  // {"requests": [...], "next_cursor": ...}, written as JsonResponse would print it.
  std::string text = "{\"requests\":[";
  text.reserve(page->requests.size() * 1536 + 64);
  for (size_t i = 0; i < page->requests.size(); ++i) {
    if (i) text.push_back(',');
    AppendRequestJson(page->requests[i], text);
  }
  text.append("],\"next_cursor\":");
  if (page->next_cursor.empty()) {
    text.append("null");
  } else {
    AppendJsonString(page->next_cursor, text);
  }
  text.append("}\n");
  co_return TextResponse(http::status::ok, std::move(text), "application/json");
}

asio::awaitable<HttpResponse> ApiHandlers::WaitRequest(RequestContext& ctx) {
  auto timeout = IntParam(ctx, "timeout", options_.default_wait.count(), 0, INT32_MAX);
  if (!timeout.ok()) co_return ErrorResponse(timeout.error());
  const auto wait_for =
      std::min<std::chrono::seconds>(std::chrono::seconds(timeout.value()), options_.max_wait);
  LongPollFinish finish = [](Result<RequestPtr> current) -> asio::awaitable<HttpResponse> {
    if (!current.ok()) co_return ErrorResponse(current.error());
    co_return RequestResponse(http::status::ok, *current.value());
  };
  const Actor actor = ctx.actor;
  std::string id = ctx.path["id"];
  co_return co_await AnswerOnceResolved(gateway_, ctx, actor, std::move(id), wait_for,
                                        std::move(finish));
}

asio::awaitable<HttpResponse> ApiHandlers::Decide(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  auto input = ParseNewDecision(body.value());
  if (!input.ok()) co_return ErrorResponse(input.error());
  auto actor = ActorFor(ctx, input->by, true);
  if (!actor.ok()) co_return ErrorResponse(actor.error());
  auto decided = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
    gateway_.Decide(actor.value(), ctx.path["id"], std::move(input).value(), std::move(done));
  });
  if (!decided.ok()) co_return ErrorResponse(decided.error());
  metrics_.CountDecision();
  co_return RequestResponse(http::status::ok, *decided.value());
}

asio::awaitable<HttpResponse> ApiHandlers::Cancel(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, true);
  if (!body.ok()) co_return ErrorResponse(body.error());
  if (!body->is_object()) co_return ErrorResponse(Error::Malformed("body must be an object"));
  const auto* reason = body->get_object().if_contains("reason");
  if (reason && !reason->is_string() && !reason->is_null()) {
    co_return ErrorResponse(Error::Malformed("reason must be a string"));
  }
  auto actor = ActorFor(ctx, BodyString(body.value(), "by"), false);
  if (!actor.ok()) co_return ErrorResponse(actor.error());
  std::string why = reason && reason->is_string() ? std::string(reason->get_string()) : "";
  auto cancelled = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
    gateway_.Cancel(actor.value(), ctx.path["id"], std::move(why), std::move(done));
  });
  if (!cancelled.ok()) co_return ErrorResponse(cancelled.error());
  co_return RequestResponse(http::status::ok, *cancelled.value());
}

asio::awaitable<HttpResponse> ApiHandlers::ReportOutcome(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  auto input = ParseNewOutcome(body.value());
  if (!input.ok()) co_return ErrorResponse(input.error());
  auto actor = ActorFor(ctx, input->by, false);
  if (!actor.ok()) co_return ErrorResponse(actor.error());
  auto reported = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
    gateway_.ReportExecution(actor.value(), ctx.path["id"], std::move(input).value(),
                             std::move(done));
  });
  if (!reported.ok()) co_return ErrorResponse(reported.error());
  co_return RequestResponse(http::status::ok, *reported.value());
}

asio::awaitable<HttpResponse> ApiHandlers::ListAudit(RequestContext& ctx) {
  EventFilter filter;
  filter.request_id = ctx.Query("request");
  filter.type_prefix = ctx.Query("type");
  filter.actor = ctx.Query("actor");
  if (filter.type_prefix.size() > 64 || filter.actor.size() > 128) {
    co_return ErrorResponse(Error::Invalid("type or actor is too long"));
  }
  auto since = IntParam(ctx, "since", 0, 0, INT64_MAX);
  if (!since.ok()) co_return ErrorResponse(since.error());
  auto limit = IntParam(ctx, "limit", 100, 1, 1000);
  if (!limit.ok()) co_return ErrorResponse(limit.error());
  filter.since = since.value();
  filter.limit = static_cast<int>(limit.value());
  const Actor actor = ctx.actor;  // captures take locals, never coroutine parameters
  auto read = [this, actor, filter] { return gateway_.ListAudit(actor, filter); };
  auto events = co_await ReadEngine<std::vector<Event>>(gateway_, std::move(read));
  if (!events.ok()) co_return ErrorResponse(events.error());
  boost::json::array out;
  out.reserve(events->size());
  int64_t next = filter.since;
  for (const auto& e : events.value()) {
    out.emplace_back(EventToJson(e));
    next = e.seq;
  }
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"events", std::move(out)}, {"next_since", next}});
}

asio::awaitable<HttpResponse> ApiHandlers::VerifyAudit(RequestContext& ctx) {
  const std::string_view full = ctx.Query("full");
  if (!full.empty() && full != "true" && full != "false") {
    co_return ErrorResponse(Error::Malformed("full must be true or false"));
  }
  // Hashing millions of events takes seconds; the store is not stalled meanwhile.
  constexpr std::chrono::minutes kVerifyWithin{30};
  auto verified = co_await CallEngine<AuditVerification>(
      gateway_,
      [&](auto done) { gateway_.VerifyAudit(ctx.actor, full == "true", std::move(done)); },
      kVerifyWithin);
  if (!verified.ok()) co_return ErrorResponse(verified.error());
  const AuditReport& report = verified->report;
  boost::json::object out{{"ok", report.ok},
                          {"events_checked", report.events_checked},
                          {"full", verified->full},
                          {"from_seq", verified->from_seq},
                          {"verified_to_seq", report.checkpoint.seq}};
  const SignedPoint& signed_point = verified->last_signed;
  if (signed_point.seq > 0) {
    out["last_signed_seq"] = signed_point.seq;
    out["last_signed_at"] = FormatTime(signed_point.at);
  } else {
    out["last_signed_seq"] = nullptr;
    out["last_signed_at"] = nullptr;
  }
  out["unsigned_events"] =
      std::max<int64_t>(0, report.checkpoint.seq - signed_point.checkpoint_seq);
  if (report.ok) {
    out["first_bad_seq"] = nullptr;
    out["reason"] = nullptr;
  } else {
    out["first_bad_seq"] = report.first_bad_seq;
    out["reason"] = report.reason;
  }
  co_return JsonResponse(http::status::ok, out);
}

asio::awaitable<HttpResponse> ApiHandlers::CreateToken(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  if (!body->is_object()) co_return ErrorResponse(Error::Malformed("body must be an object"));
  const auto& o = body->get_object();
  NewToken input;
  for (const char* key : {"name", "role", "tenant"}) {
    const auto* v = o.if_contains(key);
    if (v && !v->is_string()) {
      co_return ErrorResponse(Error::Malformed(std::string(key) + " must be a string"));
    }
  }
  input.name = BodyString(body.value(), "name");
  input.tenant = BodyString(body.value(), "tenant");
  auto role = ParseRole(BodyString(body.value(), "role"));
  if (!role) co_return ErrorResponse(Error::Invalid("role must be agent, approver or admin"));
  input.role = *role;
  if (const auto* groups = o.if_contains("groups"); groups && !groups->is_null()) {
    auto parsed = StringsFromJson(*groups, "groups");
    if (!parsed.ok()) co_return ErrorResponse(parsed.error());
    input.groups = std::move(parsed).value();
  }
  auto issued = co_await CallEngine<IssuedToken>(
      gateway_, [&](auto done) { tokens_.Create(ctx.actor, std::move(input), std::move(done)); });
  if (!issued.ok()) co_return ErrorResponse(issued.error());
  boost::json::object out = PrincipalToJson(issued->principal);
  out["token"] = issued->token;
  co_return JsonResponse(http::status::created, out);
}

asio::awaitable<HttpResponse> ApiHandlers::ListTokens(RequestContext& ctx) {
  auto read = [this, actor = ctx.actor] { return tokens_.List(actor); };
  auto listed = co_await ReadEngine<std::vector<Principal>>(gateway_, std::move(read));
  if (!listed.ok()) co_return ErrorResponse(listed.error());
  boost::json::array out;
  for (const auto& p : listed.value()) out.emplace_back(PrincipalToJson(p));
  co_return JsonResponse(http::status::ok, boost::json::object{{"tokens", std::move(out)}});
}

asio::awaitable<HttpResponse> ApiHandlers::RevokeToken(RequestContext& ctx) {
  const std::string id = ctx.path["id"];
  auto revoked = co_await AwaitCallback<Status>(
      [&](auto done) { tokens_.Revoke(ctx.actor, id, std::move(done)); });
  if (!revoked.ok()) co_return ErrorResponse(revoked.error());
  co_return JsonResponse(http::status::ok, boost::json::object{{"id", id}, {"revoked", true}});
}

asio::awaitable<HttpResponse> ApiHandlers::CreateGrant(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return ErrorResponse(body.error());
  auto input = ParseNewGrant(body.value());
  if (!input.ok()) co_return ErrorResponse(input.error());
  auto actor = ActorFor(ctx, BodyString(body.value(), "by"), false);
  if (!actor.ok()) co_return ErrorResponse(actor.error());
  auto created = co_await CallEngine<Grant>(gateway_, [&](auto done) {
    gateway_.CreateGrant(actor.value(), std::move(input).value(), std::move(done));
  });
  if (!created.ok()) co_return ErrorResponse(created.error());
  co_return JsonResponse(http::status::created, GrantToJson(created.value()));
}

asio::awaitable<HttpResponse> ApiHandlers::ListGrants(RequestContext& ctx) {
  const Actor actor = ctx.actor;  // captures take locals, never coroutine parameters
  auto read = [this, actor] { return gateway_.ListGrants(actor); };
  auto grants = co_await ReadEngine<std::vector<Grant>>(gateway_, std::move(read));
  if (!grants.ok()) co_return ErrorResponse(grants.error());
  boost::json::array out;
  for (const auto& g : grants.value()) out.emplace_back(GrantToJson(g));
  co_return JsonResponse(http::status::ok, boost::json::object{{"grants", std::move(out)}});
}

asio::awaitable<HttpResponse> ApiHandlers::RevokeGrant(RequestContext& ctx) {
  const std::string id = ctx.path["id"];
  auto revoked = co_await CallEngine<Grant>(
      gateway_, [&](auto done) { gateway_.RevokeGrant(ctx.actor, id, std::move(done)); });
  if (!revoked.ok()) co_return ErrorResponse(revoked.error());
  co_return JsonResponse(http::status::ok, boost::json::object{{"id", id}, {"revoked", true}});
}

}  // namespace countersign
