#include "http/ui_handlers.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>
#include <boost/url/url.hpp>

#include "auth/base64url.hpp"
#include "core/id_generator.hpp"
#include "core/principal.hpp"
#include "core/request_json.hpp"
#include "core/time_format.hpp"
#include "engine/lifecycle.hpp"
#include "http/cookies.hpp"
#include "http/day_range.hpp"
#include "http/decision_form.hpp"
#include "http/engine_call.hpp"
#include "http/form_data.hpp"
#include "http/responses.hpp"
#include "web/page_template.hpp"
#include "web/page_text.hpp"
#include "web/pretty_json.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

// Pending requests the inbox reads at most; older ones are on the API (issue: pagination).
constexpr int kInboxLimit = 500;
constexpr size_t kMaxTokenBytes = 512;
// Refused sign-ins one client address may make a minute (a mistyped token or two is fine; a
// guesser is slowed down, though a 256-bit token cannot be guessed anyway).
constexpr int kFailedSignInsPerMinute = 20;

bool WantsHtml(const HttpRequest& request) {
  return std::string_view(request[http::field::accept]).find("text/html") != std::string_view::npos;
}

// A batch form names each selected request as the field "pick.<id>"; at most this many.
constexpr std::string_view kPickPrefix = "pick.";
constexpr size_t kMaxBatch = 100;

// Audit events a request's page shows at most.
constexpr int kTrailLimit = 200;

// A receipt's claims as laid-out JSON (the middle part of the compact JWS); empty when there
// is no receipt or it cannot be read.
std::string ReceiptClaimsText(const std::string& receipt) {
  const size_t first = receipt.find('.');
  if (first == std::string::npos) return "";
  const size_t second = receipt.find('.', first + 1);
  if (second == std::string::npos) return "";
  auto payload = Base64UrlDecode(std::string_view(receipt).substr(first + 1, second - first - 1));
  if (!payload) return "";
  boost::system::error_code ec;
  boost::json::value claims = boost::json::parse(*payload, ec);
  return ec ? "" : PrettyJson(claims);
}

// The decision fields only an approval takes: an edit of the arguments (when the posted JSON
// differs from the request's) and a grant, one of the request's grant_options by its value
// ("session:3600"; AddGrantFromForm). Error::Invalid saying what is wrong.
Status ReadApprovalExtras(const Request& r, const Choice& choice, const FormData& form,
                          NewDecision& input) {
  const std::string arguments = FormField(form, "arguments");
  if (arguments.find_first_not_of(" \t\r\n") != std::string::npos) {
    boost::system::error_code ec;
    boost::json::value edited = boost::json::parse(arguments, ec);
    if (ec || !edited.is_object()) {
      return Error::Invalid("the arguments must be a JSON object (" +
                            (ec ? ec.message() : std::string("not an object")) + ")");
    }
    if (edited.get_object() != r.arguments) input.arguments = std::move(edited).as_object();
  }
  auto option = AddGrantFromForm(r, choice, form, input);
  if (!option.ok()) return std::move(option).error();
  return Ok();
}

// "Also granted: ..." for the standing grant `principal` gave with their approval of `r`, as
// the request's audit trail records it (grant.created); empty when there is none.
std::string GrantNotice(const Request& r, const std::vector<Event>& events,
                        const std::string& principal) {
  for (const Event& e : events) {
    if (e.type != "grant.created" || e.actor != principal) continue;
    const auto* scope = e.data.if_contains("scope");
    const auto* expires = e.data.if_contains("expires_at");
    if (scope == nullptr || !scope->is_string() || expires == nullptr || !expires->is_string()) {
      continue;
    }
    auto until = ParseTime(expires->get_string());
    if (!until) continue;
    return " " + GrantGivenSentence(r, scope->get_string(), *until);
  }
  return "";
}

// The All requests page: rows per page, how many requests a search reads at most for one
// page, and how many an export holds.
constexpr int kRequestsPerPage = 50;
constexpr int kScanPage = 100;
constexpr int kMaxScanned = 1000;
constexpr int kExportLimit = 1000;

bool LowerContains(std::string_view text, std::string_view words) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  auto it = std::search(text.begin(), text.end(), words.begin(), words.end(),
                        [&](char a, char b) { return lower(a) == lower(b); });
  return it != text.end();
}

// The filters of GET /ui/requests and its exports, as given, and as a RequestFilter.
Result<RequestFilter> ReadRequestQuery(const RequestContext& ctx, const Actor& actor,
                                       UiRequestQuery& query) {
  query.q = std::string(ctx.Query("q"));
  query.status = std::string(ctx.Query("status"));
  query.action = std::string(ctx.Query("action"));
  query.requester = std::string(ctx.Query("requester"));
  query.session = std::string(ctx.Query("session"));
  query.from = std::string(ctx.Query("from"));
  query.to = std::string(ctx.Query("to"));
  boost::urls::url encoded;
  for (auto [key, value] : {std::pair{"q", &query.q},
                            {"status", &query.status},
                            {"action", &query.action},
                            {"requester", &query.requester},
                            {"session", &query.session},
                            {"from", &query.from},
                            {"to", &query.to}}) {
    if (!value->empty()) encoded.params().append({key, *value});
  }
  query.encoded = std::string(encoded.encoded_query());
  RequestFilter filter;
  filter.tenant = actor.tenant;
  if (!query.status.empty()) {
    filter.status = ParseStatus(query.status);
    if (!filter.status) return Error::Invalid("unknown status '" + Echo(query.status) + "'");
  }
  filter.action = query.action;
  filter.requester = query.requester;
  filter.session = query.session;
  CS_RETURN_IF_ERROR(
      ReadDayRange(query.from, query.to, filter.created_from, filter.created_before));
  filter.cursor = std::string(ctx.Query("cursor"));
  if (!filter.cursor.empty() && !IsWellFormedId(filter.cursor, "req_")) {
    return Error::Invalid("that page link is not one this server made");
  }
  return filter;
}

// Up to `want` requests matching `filter` and the words `q` (an id, or words of the title),
// reading at most kMaxScanned; next_cursor continues after the last one read.
Result<RequestPage> FindRequests(Gateway& gateway, const Actor& actor, RequestFilter filter,
                                 const std::string& q, int want) {
  if (q.empty()) {
    filter.limit = want;
    return gateway.List(actor, std::move(filter));
  }
  RequestPage out;
  for (int read = 0; read < kMaxScanned; read += kScanPage) {
    filter.limit = kScanPage;
    auto page = gateway.List(actor, filter);
    if (!page.ok()) return std::move(page).error();
    for (Request& r : page->requests) {
      if (r.id != q && !LowerContains(r.title, q)) continue;
      out.requests.push_back(std::move(r));
      if (static_cast<int>(out.requests.size()) == want) {
        out.next_cursor = out.requests.back().id;
        return out;
      }
    }
    if (page->next_cursor.empty()) return out;
    filter.cursor = page->next_cursor;
    out.next_cursor = filter.cursor;
  }
  return out;
}

// A CSV field: quoted, quotes doubled, and text a spreadsheet would run as a formula
// (= + - @, tab, carriage return) made inert with a leading apostrophe.
std::string CsvField(std::string_view text) {
  std::string out = "\"";
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
    out += '\'';
  }
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool HasDecided(const Request& r, const std::string& principal) {
  return std::any_of(r.decisions.begin(), r.decisions.end(),
                     [&](const Decision& d) { return d.principal == principal; });
}

}  // namespace

UiHandlers::UiHandlers(Gateway& gateway, EventBus& bus, Authenticator& authenticator, UiGate& gate,
                       Metrics& metrics)
    : gateway_(gateway),
      bus_(bus),
      authenticator_(authenticator),
      gate_(gate),
      pages_(gate.pages()),
      metrics_(metrics),
      sign_ins_(kFailedSignInsPerMinute, std::chrono::minutes(1)) {}

void UiHandlers::Register(Router& router) {
  using A = Router::Access;
  router.Add(http::verb::get, "/", A::kPublic, [this](RequestContext& ctx) { return Root(ctx); });
  router.Add(http::verb::get, "/ui", A::kPublic,
             [this](RequestContext& ctx) { return ToInbox(ctx); });
  router.Add(http::verb::get, "/ui/login", A::kPublic,
             [this](RequestContext& ctx) { return ShowLogin(ctx); });
  router.Add(http::verb::post, "/ui/login", A::kPublic,
             [this](RequestContext& ctx) { return SignIn(ctx); });
  router.Add(http::verb::post, "/ui/logout", A::kPublic,
             [this](RequestContext& ctx) { return SignOut(ctx); });
  router.Add(http::verb::get, "/ui/", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::Inbox); });
  router.Add(http::verb::get, "/ui/requests", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::AllRequests); });
  router.Add(http::verb::get, "/ui/requests.csv", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::ExportCsv); });
  router.Add(http::verb::get, "/ui/requests.json", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::ExportJson); });
  router.Add(http::verb::get, "/ui/requests/{id}", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::ShowRequest); });
  router.Add(http::verb::post, "/ui/requests/{id}", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::Decide); });
  router.Add(http::verb::post, "/ui/batch", A::kPublic,
             [this](RequestContext& ctx) { return Signed(ctx, &UiHandlers::Batch); });
  router.Add(http::verb::get, "/ui/ui.js", A::kPublic,
             [this](RequestContext& ctx) { return Script(ctx); });
  router.AddStream(http::verb::get, "/ui/events", A::kPublic,
                   [this](RequestContext& ctx) { return Events(ctx); });
}

asio::awaitable<HttpResponse> UiHandlers::Script(RequestContext&) {
  auto script = EmbeddedWebFile("ui.js");
  if (!script.ok()) co_return ErrorResponse(script.error());
  HttpResponse res =
      TextResponse(http::status::ok, std::string(script.value()), "text/javascript; charset=utf-8");
  res.set("X-Content-Type-Options", "nosniff");
  res.set(http::field::cache_control, "no-cache");
  co_return res;
}

asio::awaitable<Result<StreamUpgrade>> UiHandlers::Events(RequestContext& ctx) {
  UiGate::Viewer viewer = co_await gate_.ViewerOf(ctx.request);
  if (!viewer.signed_in) co_return Error::Unauthorized("sign in at /ui/login first");
  const SignedIn& who = *viewer.signed_in;
  auto feed = gateway_.OpenFeed(bus_, who.actor, "", std::nullopt);
  // The stream lasts while the session does: signed out, expired, or its token revoked. A
  // session signed in by the identity provider has no token: the session alone counts.
  std::function<bool()> token_valid =
      who.session.actor
          ? std::function<bool()>([] { return true; })
          : StreamCredentialCheck(authenticator_, &gateway_, "Bearer " + who.session.token);
  auto authorized = [&sessions = gate_.sessions(), id = who.session.id,
                     token_valid = std::move(token_valid)] {
    return sessions.Find(id).has_value() && token_valid();
  };
  co_return StreamUpgrade{StreamProtocol::kServerSentEvents, std::move(feed), authorized};
}

asio::awaitable<HttpResponse> UiHandlers::ToInbox(RequestContext&) {
  co_return gate_.SeeOther("/ui/");
}

asio::awaitable<HttpResponse> UiHandlers::Root(RequestContext& ctx) {
  if (WantsHtml(ctx.request)) co_return gate_.SeeOther("/ui/");
  co_return JsonResponse(http::status::ok, boost::json::object{{"service", "countersign"},
                                                               {"api", "/v1"},
                                                               {"openapi", "/v1/openapi.json"},
                                                               {"inbox", "/ui/"},
                                                               {"health", "/healthz"},
                                                               {"ready", "/readyz"},
                                                               {"mcp", "/mcp"}});
}

asio::awaitable<HttpResponse> UiHandlers::ShowLogin(RequestContext& ctx) {
  const bool out = ctx.Query("out") == "1";
  std::string ended;
  if (ctx.Query("ended") == "1") {
    ended =
        "Your session has ended: the token it was signed in with is no longer valid. Sign in "
        "again.";
  } else if (ctx.Query("expired") == "1") {
    ended =
        "Your session has ended: it was signed out or expired, its token was revoked, or the "
        "server restarted. Sign in again.";
  }
  co_return gate_.LoginPage(http::status::ok, ctx.request, ended, out ? "You are signed out." : "");
}

asio::awaitable<HttpResponse> UiHandlers::SignIn(RequestContext& ctx) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) {
    co_return gate_.LoginPage(http::status::forbidden, ctx.request,
                              "This form has expired. Sign in again.", "");
  }
  std::string token = FormField(*form, "token");
  token.erase(0, token.find_first_not_of(" \t\r\n"));
  token.erase(token.find_last_not_of(" \t\r\n") + 1);
  if (token.empty() || token.size() > kMaxTokenBytes) {
    co_return gate_.LoginPage(http::status::unauthorized, ctx.request,
                              "Enter your countersign token.", "");
  }
  // Failed sign-ins are limited per client address; a good one gives its count back.
  const std::string address = ctx.peer.to_string();
  const TimePoint now = gateway_.alarms().clock().Now();
  if (int64_t wait = sign_ins_.Acquire(address, now)) {
    spdlog::warn("inbox: sign-ins from {} are over the limit", address);
    HttpResponse res =
        gate_.LoginPage(http::status::too_many_requests, ctx.request,
                        "Too many sign-in attempts from your address. Try again in " +
                            std::to_string(wait) + (wait == 1 ? " second." : " seconds."),
                        "");
    res.set(http::field::retry_after, std::to_string(wait));
    co_return res;
  }
  auto actor = co_await AuthenticateOffThread(authenticator_, &gateway_, "Bearer " + token);
  if (actor.ok() || actor.error().code != ErrorCode::kUnauthorized) {
    sign_ins_.Release(address, now);
  }
  if (!actor.ok()) {
    if (actor.error().code != ErrorCode::kUnauthorized) {
      co_return gate_.LoginPage(HttpStatusFor(actor.error().code), ctx.request,
                                "The server cannot check tokens right now. Try again in a moment.",
                                "");
    }
    spdlog::info("inbox: a sign-in was refused: {}", actor.error().message);
    co_return gate_.LoginPage(http::status::unauthorized, ctx.request,
                              "That token is not valid: it is mistyped, revoked or expired.", "");
  }
  const std::string id = gate_.sessions().Create(std::move(token), actor->name);
  spdlog::info("inbox: {} ({}) signed in", actor->name, RoleName(actor->role));
  HttpResponse res = gate_.SeeOther("/ui/");
  res.set(http::field::set_cookie, gate_.SessionCookie(id));
  co_return res;
}

asio::awaitable<HttpResponse> UiHandlers::SignOut(RequestContext& ctx) {
  if (!gate_.GuardedForm(ctx.request)) {
    co_return gate_.LoginPage(http::status::forbidden, ctx.request,
                              "This form has expired; you are still signed in.", "");
  }
  if (auto cookie = FindCookie(ctx.request, UiGate::kSessionCookie)) {
    gate_.sessions().Remove(*cookie);
  }
  HttpResponse res = gate_.SeeOther("/ui/login?out=1");
  res.set(http::field::set_cookie, gate_.SessionCookie(""));
  co_return res;
}

asio::awaitable<HttpResponse> UiHandlers::Inbox(RequestContext& ctx, const SignedIn& who) {
  return InboxPage(who, ctx.request, "", "");
}

asio::awaitable<HttpResponse> UiHandlers::Signed(RequestContext& ctx, SignedInHandler handler) {
  return gate_.Signed(ctx, [this, handler](RequestContext& c, const SignedIn& who) {
    return (this->*handler)(c, who);
  });
}

HttpResponse UiHandlers::ReadFailedPage(const SignedIn& who, const HttpRequest& request,
                                        const Error& error) const {
  const bool missing = error.code == ErrorCode::kNotFound;
  return gate_.MessagePage(missing ? http::status::not_found : HttpStatusFor(error.code), who,
                           request, missing ? "No such request" : "Unavailable", "error",
                           missing ? "There is no request with this id that you may see."
                                   : "The server cannot read the request right now.");
}

asio::awaitable<HttpResponse> UiHandlers::InboxPage(const SignedIn& who, const HttpRequest& request,
                                                    std::string notice, std::string tone) {
  const bool mine = !who.actor.CanDecide();
  auto read = [this, actor = who.actor, mine]() -> Result<std::vector<Request>> {
    RequestFilter filter;
    filter.tenant = actor.tenant;
    filter.status = RequestStatus::kPending;
    filter.limit = kInboxLimit;
    if (mine) filter.requester = actor.name;
    auto page = gateway_.List(actor, std::move(filter));
    if (!page.ok()) return std::move(page).error();
    const auto policies = gateway_.Policies();
    std::vector<Request> out;
    for (Request& r : page->requests) {
      if (r.kind == Kind::kConversation) continue;
      if (!mine && (!IsEligibleApprover(actor, r, *policies) || HasDecided(r, actor.name))) {
        continue;
      }
      out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [](const Request& a, const Request& b) {
      return a.deadline_at < b.deadline_at;
    });
    return out;
  };
  auto requests = co_await ReadEngine<std::vector<Request>>(gateway_, std::move(read));
  const std::string csrf = gate_.CsrfFor(request);
  if (!requests.ok()) {
    co_return gate_.Page(
        HttpStatusFor(requests.error().code),
        pages_.Message(gate_.ForPage(who, csrf), "The inbox is unavailable", "error",
                       "The server cannot read requests right now. Try again in a "
                       "moment."),
        csrf);
  }
  std::string page = pages_.Inbox(gate_.ForPage(who, csrf), requests.value(), mine, notice, tone);
  if (notice.empty()) co_return gate_.CurrentPage(request, std::move(page), csrf);
  co_return gate_.Page(http::status::ok, std::move(page), csrf);
}

asio::awaitable<HttpResponse> UiHandlers::Batch(RequestContext& ctx, const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) {
    HttpResponse res = co_await InboxPage(
        who, ctx.request, "This form has expired; nothing was decided. Try again.", "error");
    res.result(http::status::forbidden);
    co_return res;
  }
  const std::string choice = FormField(form.value(), "choice");
  std::vector<std::string> ids;
  for (const auto& [key, value] : form.value()) {
    if (key.starts_with(kPickPrefix) && value == "1") ids.push_back(key.substr(kPickPrefix.size()));
  }
  std::string refused;
  if (choice != "approve" && choice != "deny") refused = "Choose Approve or Deny.";
  if (refused.empty() && ids.empty()) refused = "Select at least one request.";
  if (refused.empty() && ids.size() > kMaxBatch) {
    refused = "Select at most " + std::to_string(kMaxBatch) + " requests at a time.";
  }
  if (!refused.empty()) {
    HttpResponse res = co_await InboxPage(who, ctx.request, refused, "error");
    res.result(http::status::unprocessable_entity);
    co_return res;
  }
  const std::string comment = FormField(form.value(), "comment");
  int decided = 0;
  std::string skipped;
  for (const std::string& id : ids) {
    auto found = co_await GetRequestFrom(gateway_, who.actor, id);
    std::string why;
    if (!found.ok()) {
      why = found.error().code == ErrorCode::kNotFound ? "not found" : found.error().message;
    } else if (choice == "approve" && found.value()->risk == "high") {
      why = "high risk: open it to decide";
    } else if (choice == "approve" && found.value()->response_schema) {
      why = "it asks for a form: open it to decide";
    } else {
      NewDecision input;
      input.choice = choice;
      input.comment = comment;
      auto result = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
        gateway_.Decide(who.actor, id, std::move(input), std::move(done));
      });
      if (result.ok()) {
        metrics_.CountDecision();
        ++decided;
        continue;
      }
      why = result.error().message;
    }
    const std::string title = found.ok() ? found.value()->title : Echo(id);
    skipped += (skipped.empty() ? "" : "; ") + title + " (" + why + ")";
  }
  std::string notice = (choice == "approve" ? "Approved " : "Denied ") + std::to_string(decided) +
                       (decided == 1 ? " request." : " requests.");
  if (!skipped.empty()) notice += " Not decided: " + skipped + ".";
  co_return co_await InboxPage(who, ctx.request, notice, skipped.empty() ? "ok" : "warn");
}

asio::awaitable<HttpResponse> UiHandlers::AllRequests(RequestContext& ctx, const SignedIn& who) {
  UiRequestQuery query;
  auto filter = ReadRequestQuery(ctx, who.actor, query);
  const std::string csrf = gate_.CsrfFor(ctx.request);
  if (!filter.ok()) {
    co_return gate_.Page(http::status::bad_request,
                         pages_.AllRequests(gate_.ForPage(who, csrf), query, {}, "",
                                            filter.error().message, kExportLimit),
                         csrf);
  }
  auto read = [this, actor = who.actor, filter = std::move(filter).value(), q = query.q] {
    return FindRequests(gateway_, actor, filter, q, kRequestsPerPage);
  };
  auto found = co_await ReadEngine<countersign::RequestPage>(gateway_, std::move(read));
  if (!found.ok()) {
    co_return gate_.Page(HttpStatusFor(found.error().code),
                         pages_.Message(gate_.ForPage(who, csrf), "Unavailable", "error",
                                        "The server cannot read requests right now."),
                         csrf);
  }
  std::string next;
  if (!found->next_cursor.empty()) {
    next = gate_.public_url().path() + "/ui/requests?" + query.encoded +
           (query.encoded.empty() ? "" : "&") + "cursor=" + found->next_cursor;
  }
  co_return gate_.Page(http::status::ok,
                       pages_.AllRequests(gate_.ForPage(who, csrf), query, found->requests, next,
                                          "", kExportLimit, gateway_.alarms().clock().Now()),
                       csrf);
}

asio::awaitable<HttpResponse> UiHandlers::ExportCsv(RequestContext& ctx, const SignedIn& who) {
  return Export(ctx, who, true);
}

asio::awaitable<HttpResponse> UiHandlers::ExportJson(RequestContext& ctx, const SignedIn& who) {
  return Export(ctx, who, false);
}

asio::awaitable<HttpResponse> UiHandlers::Export(RequestContext& ctx, const SignedIn& who,
                                                 bool csv) {
  UiRequestQuery query;
  auto filter = ReadRequestQuery(ctx, who.actor, query);
  if (!filter.ok()) co_return ErrorResponse(filter.error());
  auto read = [this, actor = who.actor, filter = std::move(filter).value(), q = query.q] {
    return FindRequests(gateway_, actor, filter, q, kExportLimit);
  };
  auto found = co_await ReadEngine<countersign::RequestPage>(gateway_, std::move(read));
  if (!found.ok()) co_return ErrorResponse(found.error());
  HttpResponse res;
  if (csv) {
    std::string body =
        "id,created_at,status,action,title,requester,session,risk,resolved_by,deadline_at\r\n";
    for (const Request& r : found->requests) {
      std::string resolved_by;
      for (const auto& name : r.resolved_by) resolved_by += (resolved_by.empty() ? "" : " ") + name;
      const std::string fields[] = {r.id,
                                    FormatTime(r.created_at),
                                    StatusName(r.status),
                                    r.action,
                                    r.title,
                                    r.requester,
                                    r.session,
                                    r.risk,
                                    resolved_by};
      for (const std::string& field : fields) body += CsvField(field) + ",";
      body += CsvField(FormatTime(r.deadline_at)) + "\r\n";
    }
    res = TextResponse(http::status::ok, std::move(body), "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"requests.csv\"");
  } else {
    boost::json::array requests;
    for (const Request& r : found->requests) requests.push_back(RequestToJson(r));
    res = JsonResponse(http::status::ok, boost::json::object{{"requests", std::move(requests)}});
    res.set(http::field::content_disposition, "attachment; filename=\"requests.json\"");
  }
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  co_return res;
}

std::string UiHandlers::WhyNot(const Actor& actor, const Request& r) const {
  if (!r.pending()) return "";
  if (!actor.CanDecide()) return "Agents cannot decide requests; an approver decides this one.";
  if (r.kind == Kind::kConversation) return "Conversations are settled in chat.";
  if (HasDecided(r, actor.name)) return "You have decided this request already.";
  if (!IsEligibleApprover(actor, r, *gateway_.Policies())) {
    return "You are not one of this request's approvers.";
  }
  return "";
}

asio::awaitable<UiRequestExtras> UiHandlers::ExtrasOf(const Actor& actor, const Request& r) {
  UiRequestExtras extras;
  auto read = [this, actor, id = r.id]() -> Result<std::vector<Event>> {
    return gateway_.ListRequestEvents(actor, id, 0, kTrailLimit);
  };
  auto events = co_await ReadEngine<std::vector<Event>>(gateway_, std::move(read));
  if (events.ok()) extras.events = std::move(events).value();
  extras.receipt_claims = ReceiptClaimsText(r.receipt);
  extras.now = gateway_.alarms().clock().Now();
  co_return extras;
}

HttpResponse UiHandlers::RequestPage(const SignedIn& who, const Request& r,
                                     const UiRequestExtras& extras, const HttpRequest& request,
                                     http::status status, std::string_view notice,
                                     std::string_view tone) const {
  const std::string csrf = gate_.CsrfFor(request);
  const std::string why_not = WhyNot(who.actor, r);
  const bool may_decide = r.pending() && why_not.empty();
  std::string page =
      pages_.RequestPage(gate_.ForPage(who, csrf), r, extras, may_decide, why_not, notice, tone);
  if (status == http::status::ok) return gate_.CurrentPage(request, std::move(page), csrf);
  return gate_.Page(status, std::move(page), csrf);
}

asio::awaitable<HttpResponse> UiHandlers::ShowRequest(RequestContext& ctx, const SignedIn& who) {
  auto found = co_await GetRequestFrom(gateway_, who.actor, std::string(ctx.path["id"]));
  if (!found.ok()) co_return ReadFailedPage(who, ctx.request, found.error());
  std::string notice;
  const UiRequestExtras extras = co_await ExtrasOf(who.actor, *found.value());
  if (auto recorded = ctx.Query("recorded"); !recorded.empty()) {
    const Choice* c = found.value()->FindChoice(recorded);
    notice = "Your decision was recorded: " + (c ? c->label : std::string(recorded)) + "." +
             GrantNotice(*found.value(), extras.events, who.actor.name);
  }
  co_return RequestPage(who, *found.value(), extras, ctx.request, http::status::ok, notice, "ok");
}

asio::awaitable<HttpResponse> UiHandlers::Decide(RequestContext& ctx, const SignedIn& who) {
  const std::string id(ctx.path["id"]);
  auto found = co_await GetRequestFrom(gateway_, who.actor, id);
  if (!found.ok()) co_return ReadFailedPage(who, ctx.request, found.error());
  const RequestPtr before = found.value();
  auto form = gate_.GuardedForm(ctx.request);
  std::optional<Error> refusal;
  http::status status = http::status::unprocessable_entity;
  if (!form) {
    refusal = Error::Forbidden("this form has expired; decide again");
    status = http::status::forbidden;
  }
  const Choice* choice = refusal ? nullptr : before->FindChoice(FormField(form.value(), "choice"));
  if (!refusal && choice == nullptr) refusal = Error::Invalid("pick one of the request's choices");
  std::optional<NewDecision> input;
  if (!refusal) {
    auto made = DecisionFromForm(*before, *choice, form.value());
    if (made.ok() && choice->outcome == Outcome::kApproved) {
      Status extras = ReadApprovalExtras(*before, *choice, form.value(), made.value());
      if (!extras.ok()) made = std::move(extras).error();
    }
    if (made.ok()) {
      input = std::move(made).value();
    } else {
      refusal = std::move(made).error();
    }
  }
  RequestPtr shown = before;
  if (!refusal) {
    auto decided = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
      gateway_.Decide(who.actor, id, std::move(*input), std::move(done));
    });
    if (decided.ok()) {
      metrics_.CountDecision();
      co_return gate_.SeeOther("/ui/requests/" + id + "?recorded=" + choice->id);
    }
    if (decided.error().current) shown = decided.error().current;
    status = HttpStatusFor(decided.error().code);
    refusal = std::move(decided).error();
  }
  // Refused: the request's page again, as it stands, with why; nothing was recorded.
  const UiRequestExtras extras = co_await ExtrasOf(who.actor, *shown);
  co_return RequestPage(who, *shown, extras, ctx.request, status,
                        "Not recorded: " + refusal->message, "error");
}

}  // namespace countersign
