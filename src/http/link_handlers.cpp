#include "http/link_handlers.hpp"

#include <algorithm>

#include "core/grant_option_text.hpp"
#include "core/time_format.hpp"
#include "http/decision_form.hpp"
#include "http/engine_call.hpp"
#include "http/form_data.hpp"
#include "http/responses.hpp"
#include "web/page_text.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

// What the recorded page says of the standing grant `option` asked for with an approval by
// `principal`, now that `r` is as the decision left it: the grant, when that approval completed
// the request (the engine makes it in the same transaction), or why there is none.
std::string GrantOutcome(const Request& r, const GrantOption& option,
                         const std::string& principal) {
  if (r.status != RequestStatus::kApproved) {
    return "No standing approval was given: only the approval that completes the request "
           "gives one, and this request is " +
           std::string(r.pending() ? "still waiting for other approvals" : StatusName(r.status)) +
           ".";
  }
  TimePoint at = r.resolved_at.value_or(TimePoint{});
  for (const Decision& d : r.decisions) {
    if (d.principal == principal) at = d.at;
  }
  return GrantGivenSentence(r, option.scope, at + option.ttl);
}

}  // namespace

void LinkHandlers::Register(Router& router) {
  router.Add(http::verb::get, "/l/{token}", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Show(ctx); });
  router.Add(http::verb::post, "/l/{token}", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Submit(ctx); });
  router.Add(http::verb::post, "/v1/requests/{id}/links", Router::Access::kAuthenticated,
             [this](RequestContext& ctx) { return Issue(ctx); });
}

HttpResponse LinkHandlers::Page(http::status status, std::string html) const {
  // The token is in the URL: no Referer may carry it anywhere, and no cache may keep it.
  return HtmlPageResponse(status, std::move(html));
}

HttpResponse LinkHandlers::ConfirmPage(const Request& r, const LinkOffer& offer,
                                       const HttpRequest& request) const {
  const std::string csrf = form_guard_.ValueFor(request);
  if (csrf.empty()) return Page(http::status::service_unavailable, pages_.Unavailable());
  // The recipient may change their mind before pressing: each other choice is a link of its
  // own (the same person and expiry), whose GET is only another confirm page.
  std::vector<OtherChoice> others;
  for (const Choice& c : r.choices) {
    if (c.id == offer.choice) continue;
    others.push_back(
        {c.id, "./" + signer_.Sign({r.tenant, r.id, c.id, offer.recipient, offer.expires_at})});
  }
  HttpResponse res = Page(http::status::ok, pages_.Confirm(r, offer, csrf, clock_.Now(), others));
  res.set(http::field::set_cookie, form_guard_.SetCookie(csrf));
  return res;
}

asio::awaitable<HttpResponse> LinkHandlers::Show(RequestContext& ctx) {
  auto claims = signer_.Verify(ctx.path["token"]);
  if (!claims.ok()) co_return Page(http::status::bad_request, pages_.InvalidLink());
  const LinkOffer offer{claims->choice, claims->recipient, claims->expires_at};
  const Actor reader{claims->recipient, Role::kApprover, claims->tenant, {}};
  auto found = co_await GetRequestFrom(gateway_, reader, claims->request_id);
  if (!found.ok()) {
    if (found.error().code == ErrorCode::kNotFound) {
      co_return Page(http::status::not_found, pages_.UnknownRequest());
    }
    co_return Page(HttpStatusFor(found.error().code), pages_.Unavailable());
  }
  const Request& r = *found.value();
  if (r.FindChoice(offer.choice) == nullptr) {
    co_return Page(http::status::bad_request, pages_.UnknownChoice(r, offer));
  }
  if (claims->expires_at < clock_.Now()) {
    co_return Page(http::status::gone, pages_.ExpiredLink(r, offer));
  }
  if (!r.pending()) co_return Page(http::status::conflict, pages_.AlreadyResolved(r));
  co_return ConfirmPage(r, offer, ctx.request);
}

asio::awaitable<HttpResponse> LinkHandlers::Submit(RequestContext& ctx) {
  auto claims = signer_.Verify(ctx.path["token"]);
  if (!claims.ok()) co_return Page(http::status::bad_request, pages_.InvalidLink());
  // A form of another type (text/plain is the classic cross-site trick) or one that does not
  // parse fails the same way as a missing cookie.
  if (!FormGuard::IsForm(ctx.request)) {
    co_return Page(http::status::forbidden, pages_.FormExpired());
  }
  auto form = ParseFormData(ctx.request.body());
  if (!form.ok() || !form_guard_.Passes(ctx.request, FormField(form.value(), kCsrfField))) {
    co_return Page(http::status::forbidden, pages_.FormExpired());
  }

  const LinkOffer offer{claims->choice, claims->recipient, claims->expires_at};
  // The recipient is the principal: when the tenant has tokens of that name, their groups
  // count for "group:NAME" approvers as they would for an API call by that principal.
  auto read = [this, tenant = claims->tenant, name = claims->recipient]() -> Result<Actor> {
    return gateway_.PrincipalActor(tenant, name);
  };
  auto recipient = co_await ReadEngine<Actor>(gateway_, std::move(read));
  if (!recipient.ok()) co_return Page(HttpStatusFor(recipient.error().code), pages_.Unavailable());
  const Actor& actor = recipient.value();
  auto found = co_await GetRequestFrom(gateway_, actor, claims->request_id);
  if (!found.ok()) {
    if (found.error().code == ErrorCode::kNotFound) {
      co_return Page(http::status::not_found, pages_.UnknownRequest());
    }
    co_return Page(HttpStatusFor(found.error().code), pages_.Unavailable());
  }
  const RequestPtr before = found.value();
  const Choice* choice = before->FindChoice(offer.choice);
  if (choice == nullptr) {
    co_return Page(http::status::bad_request, pages_.UnknownChoice(*before, offer));
  }
  if (claims->expires_at < clock_.Now()) {
    co_return Page(http::status::gone, pages_.ExpiredLink(*before, offer));
  }
  if (!before->pending()) co_return Page(http::status::conflict, pages_.AlreadyResolved(*before));

  auto input = DecisionFromForm(*before, *choice, form.value());
  if (!input.ok()) {
    if (input.error().code == ErrorCode::kInternal) {
      co_return Page(http::status::internal_server_error, pages_.Unavailable());
    }
    co_return Page(http::status::unprocessable_entity,
                   pages_.NotRecorded(*before, input.error().message));
  }
  // The option is looked up on the stored request: a forged form cannot choose its own ttl
  // or scope, and a refused one decides nothing.
  auto option = AddGrantFromForm(*before, *choice, form.value(), input.value());
  if (!option.ok()) {
    co_return Page(http::status::unprocessable_entity,
                   pages_.GrantNotOffered(*before, option.error().message));
  }
  const GrantOption* granted = option.value();
  const std::string id = claims->request_id;
  auto decided = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
    gateway_.Decide(actor, id, std::move(input).value(), std::move(done));
  });
  if (decided.ok()) {
    metrics_.CountDecision();
    const Request& after = *decided.value();
    if (granted == nullptr) co_return Page(http::status::ok, pages_.Recorded(after, offer));
    co_return Page(http::status::ok,
                   pages_.Recorded(after, offer, GrantOutcome(after, *granted, actor.name),
                                   after.status == RequestStatus::kApproved));
  }
  const Error& error = decided.error();
  switch (error.code) {
    case ErrorCode::kForbidden:
      co_return Page(http::status::forbidden, pages_.NotAllowed(*before, error.message));
    case ErrorCode::kConflict: {
      const Request& now = error.current ? *error.current : *before;
      if (!now.pending()) co_return Page(http::status::conflict, pages_.AlreadyResolved(now));
      // Still pending: this recipient has voted already.
      co_return Page(http::status::conflict, pages_.NotAllowed(now, error.message));
    }
    case ErrorCode::kNotFound:
      co_return Page(http::status::not_found, pages_.UnknownRequest());
    case ErrorCode::kMalformed:
    case ErrorCode::kInvalid:
      co_return Page(http::status::unprocessable_entity,
                     pages_.NotRecorded(*before, error.message));
    default:
      co_return Page(HttpStatusFor(error.code), pages_.Unavailable());
  }
}

asio::awaitable<HttpResponse> LinkHandlers::Issue(RequestContext& ctx) {
  auto body = ParseJsonBody(ctx.request, true);
  if (!body.ok()) co_return ErrorResponse(body.error());
  if (!body->is_object()) co_return ErrorResponse(Error::Malformed("body must be an object"));
  const Actor actor = ctx.actor;  // captures take locals, never coroutine parameters
  std::string id = ctx.path["id"];
  auto read = [this, actor, id = std::move(id)] { return gateway_.GetForLinks(actor, id); };
  auto found = co_await ReadEngine<RequestPtr>(gateway_, std::move(read));
  if (!found.ok()) co_return ErrorResponse(found.error());
  const Request& r = *found.value();
  const std::vector<OneClickLink> links = builder_.LinksFor(r);
  // A link lets whoever holds it decide as the person it names: every hand-out is on the
  // record, naming who asked and for whom, before any link leaves.
  boost::json::array recipients;
  for (const auto& link : links) {
    if (recipients.empty() || recipients.back().as_string() != link.recipient) {
      recipients.emplace_back(link.recipient);
    }
  }
  boost::json::object note{{"recipients", std::move(recipients)},
                           {"links", static_cast<int64_t>(links.size())}};
  auto noted = co_await CallEngine<Event>(gateway_, [&](auto done) {
    gateway_.Note(r.tenant, r.id, kLinksIssuedEvent, actor.name, std::move(note), std::move(done));
  });
  if (!noted.ok()) co_return ErrorResponse(noted.error());
  // Links carry whole seconds: the expiry they are checked against.
  const TimePoint expires_at = std::chrono::time_point_cast<Millis>(
      std::chrono::time_point_cast<std::chrono::seconds>(r.deadline_at));
  boost::json::object out{
      {"request_id", r.id}, {"expires_at", FormatTime(expires_at)}, {"links", LinksToJson(links)}};
  co_return JsonResponse(http::status::ok, out);
}

}  // namespace countersign
