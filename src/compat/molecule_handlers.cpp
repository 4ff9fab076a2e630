#include "compat/molecule_handlers.hpp"

#include <spdlog/spdlog.h>
#include <boost/beast/websocket/rfc6455.hpp>

#include "compat/compat_caller.hpp"
#include "compat/molecule_shapes.hpp"
#include "http/engine_call.hpp"
#include "http/form_data.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

constexpr size_t kMaxActionBytes = 512;  // the action text becomes the request's title
constexpr size_t kMaxReasonBytes = 4000;
constexpr size_t kMaxNameBytes = 128;
constexpr const char* kDefaultDecider = "dashboard";

HttpResponse JsonError(const Error& error) {
  boost::json::object body{{"error", error.message}};
  if (error.code == ErrorCode::kConflict && error.current) {
    body["status"] = StatusName(error.current->status);
    body["decided_by"] = MoleculeDecidedBy(*error.current);
  }
  HttpResponse res = JsonResponse(HttpStatusFor(error.code), body);
  SetErrorHeaders(res, error);
  return res;
}

HttpResponse AdapterOff() {
  return JsonResponse(http::status::not_found,
                      boost::json::object{{"error",
                                           "the Molecule adapter is off: enable it with "
                                           "[compat.molecule] enabled = true in the config file"}});
}

HttpResponse Page(http::status status, std::string html) {
  return HtmlPageResponse(status, std::move(html));
}

// A string member of a JSON object: absent and null read as empty; another type is an error.
Result<std::string> OptionalString(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return Error::Malformed(std::string(key) + " must be a string");
  return std::string(v->get_string());
}

}  // namespace

MoleculeHandlers::MoleculeHandlers(Gateway& gateway, const Clock& clock, EventBus& bus,
                                   Authenticator& authenticator, const MoleculePages& pages,
                                   Metrics& metrics, PublicUrl public_url, MoleculeOptions options,
                                   bool auth_on)
    : gateway_(gateway),
      clock_(clock),
      bus_(bus),
      authenticator_(authenticator),
      pages_(pages),
      metrics_(metrics),
      form_guard_(std::move(public_url), "cs_molecule_csrf", "/workspaces/",
                  "Molecule confirm form"),
      options_(std::move(options)),
      auth_on_(auth_on) {}

void MoleculeHandlers::Register(Router& router, bool loopback) {
  using A = Router::Access;
  const std::string decide_paths[] = {"/workspaces/{ws}/approvals/{id}/approve",
                                      "/workspaces/{ws}/approvals/{id}/deny"};
  if (!options_.enabled) {
    const auto off = [](RequestContext&) -> asio::awaitable<HttpResponse> {
      co_return AdapterOff();
    };
    router.Add(http::verb::post, "/workspaces/{ws}/approvals", A::kPublic, off);
    router.Add(http::verb::get, "/workspaces/{ws}/approvals", A::kPublic, off);
    for (const auto& path : decide_paths) {
      router.Add(http::verb::get, path, A::kPublic, off);
      router.Add(http::verb::post, path, A::kPublic, off);
    }
    router.Add(http::verb::get, "/ws", A::kPublic, off);
    return;
  }

  std::string tenants;
  for (const auto& [ws, tenant] : options_.workspaces) {
    tenants += (tenants.empty() ? "" : ", ") + ws + " -> " + tenant;
  }
  const std::string others = options_.default_tenant.empty()
                                 ? "any other workspace is refused"
                                 : "any other workspace -> " + options_.default_tenant;
  spdlog::info(
      "Molecule adapter on: /workspaces/{{ws}}/approvals and /ws; workspaces: {}{}{}; anonymous "
      "calls {}; replay window {}s",
      tenants, tenants.empty() ? "" : "; ", others,
      options_.anonymous && auth_on_ ? "allowed"
                                     : (auth_on_ ? "refused" : "act as admin (auth off)"),
      options_.replay_window.count());
  if (options_.anonymous && !loopback) {
    spdlog::warn(
        "Molecule adapter: anonymous calls are allowed and the server is not on loopback: anyone "
        "who can reach it may create and read Molecule approvals (set [compat.molecule] "
        "anonymous = false to require tokens)");
  }

  router.Add(http::verb::post, "/workspaces/{ws}/approvals", A::kPublic,
             [this](RequestContext& ctx) { return Create(ctx); });
  router.Add(http::verb::get, "/workspaces/{ws}/approvals", A::kPublic,
             [this](RequestContext& ctx) { return List(ctx); });
  for (const char* choice : {"approve", "deny"}) {
    const std::string path = std::string("/workspaces/{ws}/approvals/{id}/") + choice;
    router.Add(http::verb::get, path, A::kPublic,
               [this, choice = std::string(choice)](RequestContext& ctx) {
                 return ShowConfirm(ctx, choice);
               });
    router.Add(
        http::verb::post, path, A::kPublic,
        [this, choice = std::string(choice)](RequestContext& ctx) { return Decide(ctx, choice); });
  }
  router.AddStream(http::verb::get, "/ws", A::kPublic,
                   [this](RequestContext& ctx) { return Stream(ctx); });
}

Result<std::string> MoleculeHandlers::TenantOf(std::string_view ws) const {
  if (!IsValidWorkspaceId(ws)) {
    return Error::Malformed("a workspace id must be 1 to " + std::to_string(kMaxWorkspaceId) +
                            " printable bytes");
  }
  auto mapped = options_.workspaces.find(std::string(ws));
  if (mapped != options_.workspaces.end()) return mapped->second;
  if (!options_.default_tenant.empty()) return options_.default_tenant;
  return Error::NotFound("unknown workspace '" + Echo(ws) + "'");
}

asio::awaitable<Result<Actor>> MoleculeHandlers::CallerIn(const HttpRequest& request,
                                                          std::string ws) const {
  auto tenant = TenantOf(ws);
  if (!tenant.ok()) co_return std::move(tenant).error();
  // Named, not a temporary inside the co_await: GCC 12 destroys such temporaries wrongly.
  const CompatIdentity identity{MoleculeSession(ws), tenant.value(), options_.anonymous, auth_on_};
  auto actor = co_await CompatCaller(authenticator_, gateway_, request, identity);
  if (!actor.ok()) co_return std::move(actor).error();
  // A token of another tenant learns nothing, not even that the workspace exists.
  if (actor->tenant != tenant.value()) {
    co_return Error::NotFound("unknown workspace '" + Echo(ws) + "'");
  }
  co_return actor;
}

asio::awaitable<Result<MoleculeHandlers::RequestPtr>> MoleculeHandlers::FindApproval(
    const Actor& actor, std::string ws, std::string id) const {
  auto found = co_await GetRequestFrom(gateway_, actor, id);
  if (!found.ok() && found.error().code != ErrorCode::kNotFound) {
    co_return std::move(found).error();
  }
  if (!found.ok() || found.value()->session != MoleculeSession(ws)) {
    co_return Error::NotFound("no approval '" + Echo(id) + "' in workspace '" + Echo(ws) + "'");
  }
  co_return found;
}

asio::awaitable<HttpResponse> MoleculeHandlers::Create(RequestContext& ctx) {
  const std::string ws = ctx.path["ws"];
  auto actor = co_await CallerIn(ctx.request, ws);
  if (!actor.ok()) co_return JsonError(actor.error());
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return JsonError(body.error());
  if (!body->is_object()) co_return JsonError(Error::Malformed("the body must be a JSON object"));
  auto action = OptionalString(body->get_object(), "action");
  if (!action.ok()) co_return JsonError(action.error());
  if (action->empty()) co_return JsonError(Error::Malformed("action is required"));
  auto reason = OptionalString(body->get_object(), "reason");
  if (!reason.ok()) co_return JsonError(reason.error());
  if (action->size() > kMaxActionBytes) {
    co_return JsonError(
        Error::Invalid("action is longer than " + std::to_string(kMaxActionBytes) + " bytes"));
  }
  if (reason->size() > kMaxReasonBytes) {
    co_return JsonError(
        Error::Invalid("reason is longer than " + std::to_string(kMaxReasonBytes) + " bytes"));
  }

  NewRequest input;
  input.action = MoleculeActionName(action.value());
  input.title = std::move(action).value();
  input.details = {{"reason", std::move(reason).value()}, {"workspace", ws}};
  input.session = MoleculeSession(ws);
  auto created = co_await CallEngine<Gateway::Created>(gateway_, [&](auto done) {
    gateway_.Create(actor.value(), std::move(input), std::move(done));
  });
  if (!created.ok()) co_return JsonError(created.error());
  metrics_.CountRequestCreated();
  co_return JsonResponse(http::status::created,
                         boost::json::object{{"approval_id", created->request->id}});
}

asio::awaitable<HttpResponse> MoleculeHandlers::List(RequestContext& ctx) {
  const std::string ws = ctx.path["ws"];
  auto actor = co_await CallerIn(ctx.request, ws);
  if (!actor.ok()) co_return JsonError(actor.error());
  RequestFilter filter;
  filter.session = MoleculeSession(ws);
  if (auto status = ctx.Query("status"); !status.empty()) {
    filter.status = ParseStatus(status);
    if (!filter.status) co_return JsonError(Error::Malformed("unknown status"));
  }
  auto limit = IntParam(ctx, "limit", 100, 1, 500);
  if (!limit.ok()) co_return JsonError(limit.error());
  filter.limit = static_cast<int>(limit.value());
  auto read = [this, actor = actor.value(), filter = std::move(filter)] {
    return gateway_.List(actor, filter);
  };
  auto page = co_await ReadEngine<RequestPage>(gateway_, std::move(read));
  if (!page.ok()) co_return JsonError(page.error());
  boost::json::array approvals;
  approvals.reserve(page->requests.size());
  for (const auto& r : page->requests) approvals.emplace_back(MoleculeApprovalJson(r));
  co_return JsonResponse(http::status::ok, approvals);
}

asio::awaitable<Result<MoleculeHandlers::RequestPtr>> MoleculeHandlers::Record(
    const Actor& decider, std::string ws, std::string id, std::string choice, std::string comment) {
  auto found = co_await FindApproval(decider, ws, id);
  if (!found.ok()) co_return std::move(found).error();
  NewDecision input;
  input.choice = std::move(choice);
  input.comment = std::move(comment);
  auto decided = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
    gateway_.Decide(decider, id, std::move(input), std::move(done));
  });
  if (decided.ok()) metrics_.CountDecision();
  co_return decided;
}

asio::awaitable<HttpResponse> MoleculeHandlers::Decide(RequestContext& ctx,
                                                       const std::string& choice) {
  if (FormGuard::IsForm(ctx.request)) co_return co_await SubmitForm(ctx, choice);
  const std::string ws = ctx.path["ws"];
  auto actor = co_await CallerIn(ctx.request, ws);
  if (!actor.ok()) co_return JsonError(actor.error());
  if (auth_on_ && ctx.request.find(http::field::authorization) == ctx.request.end()) {
    co_return JsonError(Error::Unauthorized(
        "approving or denying needs a countersign approver's token: send Authorization: Bearer "
        "<token>"));
  }
  if (!actor->CanDecide()) {
    co_return JsonError(Error::Forbidden(
        "an agent's token cannot approve or deny: use an approver's or an admin's token"));
  }
  auto body = ParseJsonBody(ctx.request, true);
  if (!body.ok()) co_return JsonError(body.error());
  if (!body->is_object()) co_return JsonError(Error::Malformed("the body must be a JSON object"));
  auto named = OptionalString(body->get_object(), "decided_by");
  if (!named.ok()) co_return JsonError(named.error());
  auto comment = OptionalString(body->get_object(), "comment");
  if (!comment.ok()) co_return JsonError(comment.error());
  Actor decider = actor.value();
  // With auth on the token says who decides; decided_by is only Molecule's label for it.
  if (!auth_on_) {
    if (named->size() > kMaxNameBytes) {
      co_return JsonError(Error::Invalid("decided_by is longer than 128 bytes"));
    }
    decider.name = named->empty() ? kDefaultDecider : named.value();
  }
  const std::string id = ctx.path["id"];
  auto decided = co_await Record(decider, ws, id, choice, std::move(comment).value());
  if (!decided.ok()) co_return JsonError(decided.error());
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"approval_id", id},
                                             {"status", StatusName(decided.value()->status)},
                                             {"decided_by", decider.name}});
}

HttpResponse MoleculeHandlers::ConfirmPage(http::status status, const Request& r,
                                           std::string_view ws, const std::string& choice,
                                           const HttpRequest& request, std::string error) const {
  const std::string csrf = form_guard_.ValueFor(request);
  if (csrf.empty()) return Page(http::status::service_unavailable, pages_.links().Unavailable());
  MoleculeConfirmForm form;
  form.workspace = ws;
  form.choice = choice;
  form.csrf = csrf;
  form.token_mode = auth_on_;
  form.default_name = kDefaultDecider;
  form.error = std::move(error);
  HttpResponse res = Page(status, pages_.Confirm(r, form));
  res.set(http::field::set_cookie, form_guard_.SetCookie(csrf));
  return res;
}

HttpResponse MoleculeHandlers::LookupFailedPage(const Error& error) const {
  switch (error.code) {
    case ErrorCode::kNotFound:
      return Page(http::status::not_found, pages_.links().UnknownRequest());
    case ErrorCode::kMalformed:
      return Page(http::status::bad_request, pages_.Notice("This link is not valid", "error",
                                                           error.message, "Nothing was recorded."));
    case ErrorCode::kUnauthorized:
      return Page(http::status::unauthorized,
                  pages_.Notice("This page needs a token", "warn",
                                "This server answers Molecule calls only with a countersign "
                                "token, which a browser following a link does not send (" +
                                    error.message + ").",
                                "Nothing was recorded. Decide with countersign's own links or "
                                "its API instead."));
    default:
      return Page(HttpStatusFor(error.code), pages_.links().Unavailable());
  }
}

asio::awaitable<HttpResponse> MoleculeHandlers::ShowConfirm(RequestContext& ctx,
                                                            const std::string& choice) {
  const std::string ws = ctx.path["ws"];
  auto actor = co_await CallerIn(ctx.request, ws);
  if (!actor.ok()) co_return LookupFailedPage(actor.error());
  auto found = co_await FindApproval(actor.value(), ws, ctx.path["id"]);
  if (!found.ok()) co_return LookupFailedPage(found.error());
  const Request& r = *found.value();
  if (!r.pending()) co_return Page(http::status::conflict, pages_.links().AlreadyResolved(r));
  co_return ConfirmPage(http::status::ok, r, ws, choice, ctx.request, "");
}

asio::awaitable<HttpResponse> MoleculeHandlers::SubmitForm(RequestContext& ctx,
                                                           const std::string& choice) {
  const std::string ws = ctx.path["ws"];
  const std::string id = ctx.path["id"];
  auto caller = co_await CallerIn(ctx.request, ws);
  if (!caller.ok()) co_return LookupFailedPage(caller.error());
  auto form = ParseFormData(ctx.request.body());
  if (!form.ok() || !form_guard_.Passes(ctx.request, FormField(form.value(), FormGuard::kField))) {
    co_return Page(http::status::forbidden, pages_.links().FormExpired());
  }
  auto found = co_await FindApproval(caller.value(), ws, id);
  if (!found.ok()) co_return LookupFailedPage(found.error());
  const RequestPtr before = found.value();
  if (!before->pending()) {
    co_return Page(http::status::conflict, pages_.links().AlreadyResolved(*before));
  }

  Actor decider;
  if (auth_on_) {
    const std::string token = FormField(form.value(), "token");
    if (token.empty()) {
      co_return ConfirmPage(http::status::unauthorized, *before, ws, choice, ctx.request,
                            "Enter your countersign approver token.");
    }
    auto authenticated = authenticator_.Authenticate("Bearer " + token);
    if (!authenticated.ok()) {
      if (authenticated.error().code != ErrorCode::kUnauthorized) {
        co_return Page(HttpStatusFor(authenticated.error().code), pages_.links().Unavailable());
      }
      co_return ConfirmPage(http::status::unauthorized, *before, ws, choice, ctx.request,
                            "That token was not accepted: " + authenticated.error().message);
    }
    if (authenticated->tenant != before->tenant) {
      co_return ConfirmPage(http::status::forbidden, *before, ws, choice, ctx.request,
                            "That token belongs to another tenant than this workspace.");
    }
    if (!authenticated->CanDecide()) {
      co_return ConfirmPage(http::status::forbidden, *before, ws, choice, ctx.request,
                            "That is an agent's token: approving or denying needs an approver's "
                            "or an admin's.");
    }
    decider = std::move(authenticated).value();
  } else {
    std::string name = FormField(form.value(), "decided_by");
    if (name.empty()) name = kDefaultDecider;
    if (name.size() > kMaxNameBytes) {
      co_return ConfirmPage(http::status::unprocessable_entity, *before, ws, choice, ctx.request,
                            "Your name must be at most 128 bytes.");
    }
    decider = Actor{std::move(name), Role::kAdmin, before->tenant, {}};
  }

  auto decided = co_await Record(decider, ws, id, choice, FormField(form.value(), "comment"));
  if (decided.ok()) {
    co_return Page(http::status::ok,
                   pages_.links().Recorded(*decided.value(), LinkOffer{choice, decider.name, {}}));
  }
  const Error& error = decided.error();
  switch (error.code) {
    case ErrorCode::kForbidden:
      co_return Page(http::status::forbidden, pages_.links().NotAllowed(*before, error.message));
    case ErrorCode::kConflict: {
      const Request& now = error.current ? *error.current : *before;
      if (!now.pending()) {
        co_return Page(http::status::conflict, pages_.links().AlreadyResolved(now));
      }
      // Still pending: this person has voted already.
      co_return Page(http::status::conflict, pages_.links().NotAllowed(now, error.message));
    }
    case ErrorCode::kNotFound:
      co_return Page(http::status::not_found, pages_.links().UnknownRequest());
    case ErrorCode::kMalformed:
    case ErrorCode::kInvalid:
      co_return Page(http::status::unprocessable_entity,
                     pages_.links().NotRecorded(*before, error.message));
    default:
      co_return Page(HttpStatusFor(error.code), pages_.links().Unavailable());
  }
}

asio::awaitable<Result<StreamUpgrade>> MoleculeHandlers::Stream(RequestContext& ctx) {
  const std::string ws(ctx.request["X-Workspace-ID"]);
  if (ws.empty()) {
    co_return Error::Malformed("GET /ws needs the X-Workspace-ID header naming the workspace");
  }
  auto actor = co_await CallerIn(ctx.request, ws);
  if (!actor.ok()) co_return std::move(actor).error();
  if (!beast::websocket::is_upgrade(ctx.request)) {
    co_return Error::Malformed(
        "GET /ws is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket");
  }
  // Resolutions of the last replay_window first: a client that subscribes just after the
  // decision still hears it.
  auto read = [this, tenant = actor->tenant, at = clock_.Now() - options_.replay_window] {
    return gateway_.FeedPositionAt(tenant, at);
  };
  auto since = co_await ReadEngine<int64_t>(gateway_, std::move(read));
  if (!since.ok()) co_return std::move(since).error();
  StreamUpgrade upgrade{
      StreamProtocol::kWebSocket,
      gateway_.OpenFeed(bus_, actor.value(), "", since.value(), MoleculeSession(ws)), nullptr};
  upgrade.render = MoleculeDecidedMessage;
  const auto header = ctx.request.find(http::field::authorization);
  if (auth_on_ && header != ctx.request.end()) {
    upgrade.authorized =
        StreamCredentialCheck(authenticator_, &gateway_, std::string(header->value()));
  }
  co_return upgrade;
}

}  // namespace countersign
