#include "http/ui_audit_handlers.hpp"

#include <charconv>

#include <spdlog/spdlog.h>
#include <boost/url/url.hpp>

#include "http/day_range.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

constexpr int kEventsPerPage = 100;

// The filters of GET /ui/audit, as given, and as an EventFilter of `actor`'s tenant.
Result<EventFilter> ReadAuditQuery(const RequestContext& ctx, UiAuditQuery& query) {
  query.request = std::string(ctx.Query("request"));
  query.type = std::string(ctx.Query("type"));
  query.actor = std::string(ctx.Query("actor"));
  query.from = std::string(ctx.Query("from"));
  query.to = std::string(ctx.Query("to"));
  EventFilter filter;
  if (query.request.size() > 64 || query.type.size() > 64 || query.actor.size() > 128) {
    return Error::Invalid("a filter is too long");
  }
  filter.request_id = query.request;
  filter.type_prefix = query.type;
  filter.actor = query.actor;
  CS_RETURN_IF_ERROR(ReadDayRange(query.from, query.to, filter.from, filter.until));
  const std::string_view before = ctx.Query("before");
  if (!before.empty()) {
    auto [end, ec] = std::from_chars(before.data(), before.data() + before.size(), filter.before);
    if (ec != std::errc() || end != before.data() + before.size() || filter.before <= 0) {
      return Error::Invalid("that page link is not one this server made");
    }
  }
  filter.newest_first = true;
  filter.limit = kEventsPerPage + 1;  // one more: is there an older page?
  return filter;
}

// The filters as a query string, for the link to older events.
std::string Encoded(const UiAuditQuery& query) {
  boost::urls::url encoded;
  for (auto [key, value] : {std::pair{"request", &query.request},
                            {"type", &query.type},
                            {"actor", &query.actor},
                            {"from", &query.from},
                            {"to", &query.to}}) {
    if (!value->empty()) encoded.params().append({key, *value});
  }
  return std::string(encoded.encoded_query());
}

}  // namespace

UiAuditHandlers::UiAuditHandlers(Gateway& gateway, UiGate& gate, const UiAuditPages& pages,
                                 AuditVerifyJob& job)
    : gateway_(gateway), gate_(gate), pages_(pages), job_(job) {}

void UiAuditHandlers::Register(Router& router) {
  using A = Router::Access;
  router.Add(http::verb::get, "/ui/audit", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiAuditHandlers::Log); });
  router.Add(http::verb::get, "/ui/audit/verify", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiAuditHandlers::ShowVerify); });
  router.Add(http::verb::get, "/ui/audit/verify.json", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiAuditHandlers::VerifyJson); });
  router.Add(http::verb::post, "/ui/audit/verify", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiAuditHandlers::StartVerify); });
}

asio::awaitable<HttpResponse> UiAuditHandlers::Signed(RequestContext& ctx,
                                                      SignedInHandler handler) {
  return gate_.Signed(ctx, [this, handler](RequestContext& c, const SignedIn& who) {
    return (this->*handler)(c, who);
  });
}

HttpResponse UiAuditHandlers::Refused(const SignedIn& who, const HttpRequest& request,
                                      std::string_view message) const {
  return gate_.MessagePage(http::status::forbidden, who, request, "Not for you", "error", message);
}

asio::awaitable<HttpResponse> UiAuditHandlers::Log(RequestContext& ctx, const SignedIn& who) {
  if (!who.actor.CanReadTenant()) {
    co_return Refused(who, ctx.request, "The audit log is for approvers and admins.");
  }
  const std::string csrf = gate_.CsrfFor(ctx.request);
  const UiViewer viewer = gate_.ForPage(who, csrf);
  const bool may_verify = who.actor.IsOperator();
  UiAuditQuery query;
  auto filter = ReadAuditQuery(ctx, query);
  if (!filter.ok()) {
    co_return gate_.Page(
        http::status::bad_request,
        pages_.Log(viewer, query, {}, "", filter.error().message, job_.State(), may_verify), csrf);
  }
  auto read = [this, actor = who.actor, filter = std::move(filter).value()] {
    return gateway_.ListAudit(actor, filter);
  };
  auto events = co_await ReadEngine<std::vector<Event>>(gateway_, std::move(read));
  if (!events.ok()) {
    co_return gate_.MessagePage(HttpStatusFor(events.error().code), who, ctx.request, "Unavailable",
                                "error", "The server cannot read the audit log right now.");
  }
  std::string next;
  if (static_cast<int>(events->size()) > kEventsPerPage) {
    events->resize(kEventsPerPage);
    const std::string encoded = Encoded(query);
    next = gate_.public_url().path() + "/ui/audit?" + encoded + (encoded.empty() ? "" : "&") +
           "before=" + std::to_string(events->back().seq);
  }
  co_return gate_.Page(
      http::status::ok,
      pages_.Log(viewer, query, events.value(), next, "", job_.State(), may_verify), csrf);
}

asio::awaitable<HttpResponse> UiAuditHandlers::ShowVerify(RequestContext& ctx,
                                                          const SignedIn& who) {
  if (!who.actor.CanReadTenant()) {
    co_return Refused(who, ctx.request, "The audit log is for approvers and admins.");
  }
  const std::string csrf = gate_.CsrfFor(ctx.request);
  const AuditVerifyState state = job_.State();
  HttpResponse res =
      gate_.Page(http::status::ok,
                 pages_.Verify(gate_.ForPage(who, csrf), state, who.actor.IsOperator()), csrf);
  // Without JavaScript the page follows a running verification by reloading itself.
  if (state.running) res.set("Refresh", "2");
  co_return res;
}

asio::awaitable<HttpResponse> UiAuditHandlers::VerifyJson(RequestContext&, const SignedIn& who) {
  if (!who.actor.CanReadTenant()) {
    co_return ErrorResponse(Error::Forbidden("the audit log is for approvers and admins"));
  }
  const AuditVerifyState state = job_.State();
  boost::json::object out{{"started", state.started},
                          {"running", state.running},
                          {"checked", state.checked},
                          {"total", state.total},
                          {"sentence", UiAuditPages::Sentence(state)}};
  if (state.started && !state.running) {
    out["ok"] = state.error.empty() && state.ok;
    out["first_bad_seq"] = state.ok ? boost::json::value(nullptr) : state.first_bad_seq;
  }
  HttpResponse res = JsonResponse(http::status::ok, out);
  res.set(http::field::cache_control, "no-store");
  co_return res;
}

asio::awaitable<HttpResponse> UiAuditHandlers::StartVerify(RequestContext& ctx,
                                                           const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) {
    co_return gate_.MessagePage(http::status::forbidden, who, ctx.request, "Not started", "error",
                                "This form has expired; nothing was started. Try again.");
  }
  if (!who.actor.IsOperator()) {
    co_return Refused(who, ctx.request,
                      "Verifying the chain is for an admin of the default tenant: it spans "
                      "every tenant.");
  }
  const std::string full = FormField(*form, "full");
  if (full != "0" && full != "1") {
    co_return gate_.MessagePage(http::status::unprocessable_entity, who, ctx.request, "Not started",
                                "error", "Choose to verify the new events or the whole chain.");
  }
  if (job_.Start(who.actor, full == "1")) {
    spdlog::info("inbox: {} started a {} verification of the audit chain", who.actor.name,
                 full == "1" ? "full" : "incremental");
  }
  co_return gate_.SeeOther("/ui/audit/verify");
}

}  // namespace countersign
