#include "compat/aisoc_handlers.hpp"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "compat/aisoc_timeline.hpp"
#include "core/ascii.hpp"
#include "core/time_format.hpp"
#include "http/await_callback.hpp"
#include "http/engine_call.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

namespace json = boost::json;
using RequestPtr = Gateway::RequestPtr;

constexpr const char* kDisabled =
    "ChatOps verification is disabled: the AiSOC adapter is off (enable it with "
    "[compat.aisoc] enabled = true)";
constexpr size_t kMaxCaseId = 123;  // "case:" + id fits a 128-byte session
constexpr size_t kMaxName = 128;
constexpr size_t kMaxQuestion = 512;  // a request title
constexpr size_t kMaxText = 2000;
constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxSecret = 512;
constexpr int kMaxTimelinePages = 20;  // of 500 verifications each

}  // namespace

// What a POST /v1/verifications body asks for.
struct AisocHandlers::Verification {
  std::string case_id;
  json::value tenant_id;  // AiSOC's tenant, echoed as sent (a string, a number or null)
  std::string user_ref;
  AisocPromptTarget target;
  std::string question;
  std::string context;
  std::string rationale;
  std::string timeline_url;
};

namespace {

bool IsPrintable(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Field `key` of `o` into `into`: absent or null leaves it as it is; a number is taken as its
// decimal text when `numbers` allows it; anything else that is not a string is an error.
Status ReadText(const json::object& o, const char* key, size_t max, std::string& into,
                bool numbers = false) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return Ok();
  if (numbers && v->is_int64()) {
    into = std::to_string(v->get_int64());
    return Ok();
  }
  if (!v->is_string()) return Error::Malformed(std::string(key) + " must be a string");
  if (v->get_string().size() > max) {
    return Error::Malformed(std::string(key) + " is longer than " + std::to_string(max) + " bytes");
  }
  into = std::string(v->get_string());
  return Ok();
}

// Legacy connector URLs take a MessageCard; Workflows URLs an Adaptive Card.
std::string DefaultTeamsFormat(std::string_view webhook_url) {
  auto parsed = boost::urls::parse_absolute_uri(webhook_url);
  if (!parsed) return "adaptive";
  const std::string host = AsciiLower(std::string(parsed->host_address()));
  return host == "outlook.office.com" || host.ends_with(".webhook.office.com") ? "messagecard"
                                                                               : "adaptive";
}

Result<AisocHandlers::Verification> ParseVerification(const json::value& body) {
  if (!body.is_object()) return Error::Malformed("the body must be a JSON object");
  const json::object& o = body.get_object();
  AisocHandlers::Verification in;
  CS_RETURN_IF_ERROR(ReadText(o, "case_id", kMaxCaseId, in.case_id, true));
  if (in.case_id.empty()) return Error::Malformed("case_id is required");
  if (!IsPrintable(in.case_id)) return Error::Malformed("case_id must be printable text");
  if (const auto* t = o.if_contains("tenant_id")) {
    if (!t->is_null() && !t->is_string() && !t->is_int64()) {
      return Error::Malformed("tenant_id must be a string");
    }
    if (t->is_string() && t->get_string().size() > kMaxName) {
      return Error::Malformed("tenant_id is longer than " + std::to_string(kMaxName) + " bytes");
    }
    in.tenant_id = *t;
  }
  CS_RETURN_IF_ERROR(ReadText(o, "user_ref", kMaxName, in.user_ref));
  if (in.user_ref.empty()) return Error::Malformed("user_ref is required");
  if (!IsPrintable(in.user_ref)) return Error::Malformed("user_ref must be printable text");

  std::string transport = "slack";
  CS_RETURN_IF_ERROR(ReadText(o, "transport", kMaxName, transport));
  in.target.transport = AsciiLower(transport);
  if (in.target.transport != "slack" && in.target.transport != "teams") {
    return Error::Malformed("unsupported ChatOps transport: '" + transport + "'");
  }
  CS_RETURN_IF_ERROR(ReadText(o, "webhook_url", kMaxUrl, in.target.webhook_url));
  if (in.target.webhook_url.empty()) {
    return Error::Malformed("parameters.webhook_url is required for ChatOps verification");
  }
  CS_RETURN_IF_ERROR(ReadText(o, "bot_token", kMaxSecret, in.target.bot_token));
  CS_RETURN_IF_ERROR(ReadText(o, "channel", kMaxName, in.target.channel));
  if (!in.target.bot_token.empty()) {
    if (in.target.transport != "slack") {
      return Error::Malformed("bot_token works only with transport 'slack' (chat.postMessage)");
    }
    if (in.target.channel.empty()) {
      return Error::Malformed("channel is required with bot_token (Slack chat.postMessage)");
    }
  }
  if (in.target.transport == "teams") {
    in.target.teams_format = DefaultTeamsFormat(in.target.webhook_url);
    CS_RETURN_IF_ERROR(ReadText(o, "teams_format", kMaxName, in.target.teams_format));
    if (in.target.teams_format != "adaptive" && in.target.teams_format != "messagecard") {
      return Error::Malformed("teams_format must be 'adaptive' or 'messagecard'");
    }
  }

  CS_RETURN_IF_ERROR(ReadText(o, "rationale", kMaxText, in.rationale));
  in.question = "AiSOC needs to confirm activity on your account (" + in.user_ref + ").";
  CS_RETURN_IF_ERROR(ReadText(o, "question", kMaxQuestion, in.question));
  if (in.question.empty()) return Error::Malformed("question must not be empty");
  in.context = "Incident `" + in.case_id +
               "` \u2014 rationale: " + (in.rationale.empty() ? "n/a" : in.rationale);
  CS_RETURN_IF_ERROR(ReadText(o, "context", kMaxText, in.context));
  CS_RETURN_IF_ERROR(ReadText(o, "timeline_url", kMaxUrl, in.timeline_url));
  return in;
}

// `res` with `body` in place of its own; keeps the status and headers (WWW-Authenticate,
// Retry-After) that ErrorResponse chose.
HttpResponse WithBody(HttpResponse res, const json::object& body) {
  res.body() = json::serialize(body) + "\n";
  res.prepare_payload();
  return res;
}

HttpResponse Failed(http::status status, const std::string& message, json::object extra = {}) {
  json::object body{{"status", "failed"}, {"error", message}};
  for (auto& [key, value] : extra) body[key] = std::move(value);
  return JsonResponse(status, body);
}

HttpResponse Failed(const Error& error) {
  return WithBody(ErrorResponse(error), {{"status", "failed"}, {"error", error.message}});
}

HttpResponse Plain(const Error& error) {
  return WithBody(ErrorResponse(error), {{"error", error.message}});
}

HttpResponse Disabled() { return Plain(Error::NotFound(kDisabled)); }

std::string StringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::value OrNull(const std::string& s) { return s.empty() ? json::value() : json::value(s); }

bool IsDestination(const AisocOptions& o, const std::string& url) {
  return std::find(o.destinations.begin(), o.destinations.end(), url) != o.destinations.end();
}

// An anonymous caller picks the person and where their vote links go; it may only send them
// to a destination the operator named, exactly (not merely any URL on an allowed host), and
// never through a bot token of its own.
Status CheckAnonymousTarget(const AisocOptions& o, const AisocHandlers::Verification& in) {
  if (!in.target.bot_token.empty()) {
    return Error::Forbidden("an anonymous verification cannot use bot_token; call with a token");
  }
  if (!IsDestination(o, in.target.webhook_url)) {
    return Error::Forbidden(
        "an anonymous verification may only prompt a webhook_url listed in [compat.aisoc] "
        "destinations; call with a token to use another");
  }
  if (!in.timeline_url.empty() && !IsDestination(o, in.timeline_url)) {
    return Error::Forbidden(
        "an anonymous verification may only name a timeline_url listed in [compat.aisoc] "
        "destinations; call with a token to use another");
  }
  return Ok();
}

}  // namespace

AisocHandlers::AisocHandlers(Gateway& gateway, const Clock& clock, IdGenerator& ids,
                             Authenticator& authenticator, LinkHandlers& links,
                             const LinkSigner& signer, HttpTransport& transport,
                             const PublicUrl& public_url, AisocOptions options,
                             AisocServerFacts server)
    : gateway_(gateway),
      clock_(clock),
      ids_(ids),
      authenticator_(authenticator),
      links_(links),
      signer_(signer),
      public_url_(public_url),
      options_(std::move(options)),
      server_(std::move(server)),
      identity_{options_.principal, options_.tenant, options_.anonymous, server_.auth_on},
      allow_hosts_(options_.allow_hosts),
      prompt_(public_url_, signer_, options_.slack_api_base, clock_),
      timeline_("timeline", "", server_.callback_secret, {}, clock_),
      sender_(transport) {}

void AisocHandlers::Register(Router& router, bool loopback) {
  using A = Router::Access;
  router.Add(http::verb::post, "/v1/verifications", A::kPublic,
             [this](RequestContext& ctx) { return CreateVerification(ctx); });
  router.Add(http::verb::get, AisocPrompt::kCallbackPath, A::kPublic,
             [this](RequestContext& ctx) { return ShowCallback(ctx); });
  router.Add(http::verb::post, AisocPrompt::kCallbackPath, A::kPublic,
             [this](RequestContext& ctx) { return SubmitCallback(ctx); });
  router.Add(http::verb::get, "/v1/cases/{case_id}/timeline", A::kPublic,
             [this](RequestContext& ctx) { return CaseTimeline(ctx); });
  if (!options_.enabled) return;
  spdlog::info(
      "compat aisoc: POST /v1/verifications, {}, GET /v1/cases/{{case_id}}/timeline (tenant {}, "
      "anonymous calls {}, prompts to {} allowed hosts, {} destinations for anonymous calls)",
      AisocPrompt::kCallbackPath, options_.tenant,
      server_.auth_on ? (options_.anonymous ? "allowed" : "refused") : "admin (auth off)",
      options_.allow_hosts.size(), options_.destinations.size());
  if (server_.auth_on && options_.anonymous && !loopback) {
    spdlog::warn(
        "compat aisoc: anonymous calls are allowed and the server is not on loopback: anyone "
        "who reaches it can ask users to verify activity (prompts go only to the configured "
        "destinations); set [compat.aisoc] anonymous = false");
  }
}

asio::awaitable<HttpResponse> AisocHandlers::CreateVerification(RequestContext& ctx) {
  if (!options_.enabled) co_return Failed(http::status::not_found, kDisabled);
  auto actor = co_await CompatCaller(authenticator_, gateway_, ctx.request, identity_);
  if (!actor.ok()) co_return Failed(actor.error());
  auto body = ParseJsonBody(ctx.request, false);
  if (!body.ok()) co_return Failed(body.error());
  auto parsed = ParseVerification(body.value());
  if (!parsed.ok()) co_return Failed(http::status::bad_request, parsed.error().message);
  const Verification& in = parsed.value();
  Status allowed = allow_hosts_.Check("webhook_url", in.target.webhook_url);
  if (allowed.ok() && !in.timeline_url.empty()) {
    allowed = allow_hosts_.Check("timeline_url", in.timeline_url);
  }
  if (!allowed.ok()) co_return Failed(http::status::bad_request, allowed.error().message);
  const bool anonymous =
      server_.auth_on && ctx.request.find(http::field::authorization) == ctx.request.end();
  if (anonymous) {
    if (Status target = CheckAnonymousTarget(options_, in); !target.ok()) {
      co_return Failed(target.error());
    }
  }

  NewRequest request;
  request.action = kAisocAction;
  request.kind = "verification";
  request.title = in.question;
  request.details = {{"case_id", in.case_id},
                     {"tenant_id", in.tenant_id},
                     {"user_ref", in.user_ref},
                     {"transport", in.target.transport},
                     {"channel", OrNull(in.target.channel)},
                     {"context", in.context},
                     {"rationale", OrNull(in.rationale)}};
  request.approvers = {in.user_ref};
  request.timeout_seconds = options_.timeout.count();
  request.session = CaseSession(in.case_id);
  auto created = co_await CallEngine<Gateway::Created>(gateway_, [&](auto done) {
    gateway_.Create(actor.value(), std::move(request), std::move(done));
  });
  if (!created.ok()) co_return Failed(created.error());
  RequestPtr r = created->request;
  if (!r->pending()) {
    co_return Failed(http::status::conflict,
                     "policy " + r->policy + " decided this verification at once (" +
                         std::string(StatusName(r->status)) + "): nobody was asked",
                     {{"verification_id", r->id}});
  }

  co_return co_await Prompt(std::move(r), actor.value(), in);
}

asio::awaitable<HttpResponse> AisocHandlers::Prompt(RequestPtr r, Actor actor,
                                                    const Verification& in) {
  // The person sees the question and the context; the rest of the details are for analysts.
  Request view = *r;
  view.details = {{"context", in.context}};
  auto delivery = co_await CallEngine<json::object>(
      gateway_, [&](auto done) { Deliver(view, in.target, in.user_ref, std::move(done)); });
  if (!delivery.ok()) {
    // Nobody will see the question: the request must not wait for an answer.
    const std::string why = delivery.error().message;
    auto cancelled = co_await CallEngine<RequestPtr>(gateway_, [&](auto done) {
      gateway_.Cancel(actor, r->id, "ChatOps prompt not delivered: " + why, std::move(done));
    });
    if (!cancelled.ok()) {
      spdlog::warn("aisoc: cancelling undelivered verification {} failed: {}", r->id,
                   cancelled.error().message);
    }
    spdlog::warn("aisoc: verification {} of case {}: {}", r->id, in.case_id, why);
    co_return Failed(
        http::status::bad_gateway, why,
        {{"verification_id", r->id},
         {"request_status",
          std::string(StatusName(cancelled.ok() ? (*cancelled)->status : r->status))}});
  }

  const int64_t expires_in =
      std::chrono::duration_cast<std::chrono::seconds>(r->deadline_at - r->created_at).count();
  json::object note{
      {"content", "ChatOps verification sent to " + in.user_ref + " via " + in.target.transport +
                      ". Awaiting response (TTL " + std::to_string(expires_in) + "s)."},
      {"metadata",
       {{"action_id", r->id},
        {"verification_id", r->id},
        {"tenant_id", in.tenant_id},
        {"transport", in.target.transport},
        {"channel", OrNull(in.target.channel)},
        {"user_ref", in.user_ref},
        {"question", in.question},
        {"expires_in_seconds", expires_in}}},
      {"delivery", delivery.value()}};
  if (!in.timeline_url.empty()) note["timeline_url"] = in.timeline_url;
  const std::string warning = co_await AwaitCallback<std::string>([&](auto done) {
    RecordPrompt(r, actor.name, std::move(note), in.timeline_url, in.case_id, std::move(done));
  });

  spdlog::info("aisoc: verification {} of case {} prompted {} via {}", r->id, in.case_id,
               in.user_ref, in.target.transport);
  json::object out{{"status", "running"},
                   {"verification_id", r->id},
                   {"case_id", in.case_id},
                   {"tenant_id", in.tenant_id},
                   {"transport", in.target.transport},
                   {"channel", OrNull(in.target.channel)},
                   {"user_ref", in.user_ref},
                   {"delivery", std::move(delivery).value()},
                   {"expires_in_seconds", expires_in},
                   {"expires_at", FormatTime(r->deadline_at)}};
  if (!warning.empty()) out["timeline_warning"] = warning;
  // 202: the verification is under way; its answer comes later, from the person.
  co_return JsonResponse(http::status::accepted, out);
}

void AisocHandlers::Deliver(const Request& view, const AisocPromptTarget& target,
                            const std::string& recipient,
                            std::function<void(Result<json::object>)> done) {
  auto prepared = prompt_.Prepare(view, target, recipient);
  if (!prepared.ok()) {
    done(std::move(prepared).error());
    return;
  }
  auto sent = std::make_shared<const AisocPrompt::Prepared>(std::move(prepared).value());
  sender_.Send(sent->call, server_.call_timeout,
               [this, sent, done = std::move(done)](OutboundReply reply) {
                 done(prompt_.Interpret(*sent, reply));
               });
}

void AisocHandlers::RecordPrompt(RequestPtr r, std::string actor, json::object note,
                                 std::string timeline_url, std::string case_id,
                                 std::function<void(std::string)> done) {
  // What the timeline entry is made of should the note not be written.
  Event unrecorded;
  unrecorded.at = clock_.Now();
  unrecorded.tenant = r->tenant;
  unrecorded.request_id = r->id;
  unrecorded.type = kPromptedEvent;
  unrecorded.actor = actor;
  unrecorded.data = note;
  gateway_.Note(
      r->tenant, r->id, kPromptedEvent, std::move(actor), std::move(note),
      [this, r, unrecorded = std::move(unrecorded), timeline_url = std::move(timeline_url),
       case_id = std::move(case_id), done = std::move(done)](Result<Event> noted) {
        // The prompt is out and cannot be taken back: a failure here is only a warning.
        std::string warning;
        if (!noted.ok()) warning = "timeline prompt-event write failed: " + noted.error().message;
        const Event& prompted = noted.ok() ? noted.value() : unrecorded;
        if (timeline_url.empty()) {
          done(warning);
          return;
        }
        SendTimeline(*r, timeline_url, case_id, prompted, *TimelineEntry(*r, prompted),
                     [warning, done](std::string failed) {
                       done(warning.empty() ? std::move(failed) : warning);
                     });
      });
}

void AisocHandlers::SendTimeline(const Request& r, const std::string& url,
                                 const std::string& case_id, const Event& e, json::object entry,
                                 std::function<void(std::string)> done) {
  entry["case_id"] = case_id;
  OutboxRow row;
  row.delivery_id = ids_.Next("dlv_");
  row.event = std::string(entry["type"].get_string());
  row.target = url;
  row.payload = json::serialize(entry);
  auto call = timeline_.Render(row, r, "");
  if (!call.ok()) {
    done("timeline " + row.event + " write failed: " + call.error().message);
    return;
  }
  sender_.Send(
      std::move(call).value(), server_.call_timeout,
      [this, row, url, tenant = r.tenant, id = r.id, seq = e.seq,
       done = std::move(done)](OutboundReply reply) {
        const DeliveryOutcome outcome = timeline_.Interpret(row, reply);
        if (outcome.kind == DeliveryOutcome::Kind::kDelivered) {
          done("");
          return;
        }
        const std::string warning = "timeline " + row.event + " write failed: " + outcome.error;
        spdlog::warn("aisoc: {} of {}: {}", warning, id, url);
        gateway_.Note(tenant, id, kTimelineFailedEvent, "system",
                      {{"timeline_url", url},
                       {"event", row.event},
                       {"event_seq", seq},
                       {"delivery", row.delivery_id},
                       {"error", outcome.error}},
                      // Answered once the failure is on the record.
                      [id, warning, done](Result<Event> noted) {
                        if (!noted.ok()) {
                          spdlog::warn("aisoc: recording the timeline failure of {} failed: {}", id,
                                       noted.error().message);
                        }
                        done(warning);
                      });
      });
}

HttpResponse AisocHandlers::ScopeCookie(HttpResponse page) const {
  auto cookie = page.find(http::field::set_cookie);
  if (cookie == page.end()) return page;
  std::string value(cookie->value());
  const std::string from = "; Path=" + public_url_.path() + "/l/;";
  const std::string to = "; Path=" + public_url_.path() + AisocPrompt::kCallbackPath + ";";
  if (const size_t at = value.find(from); at != std::string::npos) {
    value.replace(at, from.size(), to);
    page.set(http::field::set_cookie, value);
  }
  return page;
}

asio::awaitable<HttpResponse> AisocHandlers::ShowCallback(RequestContext& ctx) {
  if (!options_.enabled) co_return Disabled();
  ctx.path["token"] = std::string(ctx.Query("token"));
  co_return ScopeCookie(co_await links_.Show(ctx));
}

asio::awaitable<HttpResponse> AisocHandlers::SubmitCallback(RequestContext& ctx) {
  if (!options_.enabled) co_return Disabled();
  const std::string token(ctx.Query("token"));
  ctx.path["token"] = token;
  HttpResponse page = co_await links_.Submit(ctx);
  // 200 is LinkHandlers' "decision recorded".
  // Its reads go to the store: on the read executor, after this answer.
  if (page.result() == http::status::ok) {
    gateway_.RunOnReadExecutor([this, token] { SendResponded(token); });
  }
  co_return page;
}

void AisocHandlers::SendResponded(const std::string& token) {
  auto claims = signer_.Verify(token);
  if (!claims.ok()) return;
  const Actor reader{claims->recipient, Role::kApprover, claims->tenant, {}};
  auto found = gateway_.Get(reader, claims->request_id);
  if (!found.ok() || found.value()->action != kAisocAction) return;
  const Request& r = *found.value();
  auto events = gateway_.ListRequestEvents(reader, r.id, 0, 1000);
  if (!events.ok()) {
    spdlog::warn("aisoc: no timeline entry for the decision on {}: {}", r.id,
                 events.error().message);
    return;
  }
  std::string url;
  const Event* decision = nullptr;
  for (const Event& e : events.value()) {
    if (e.type == kPromptedEvent) url = StringAt(e.data, "timeline_url");
    if (e.type == "decision.recorded" && e.actor == claims->recipient) decision = &e;
  }
  if (url.empty() || !decision) return;
  auto entry = TimelineEntry(r, *decision);
  SendTimeline(r, url, StringAt(r.details, "case_id"), *decision, std::move(*entry),
               [](std::string) {});
}

Result<AisocHandlers::Timeline> AisocHandlers::CollectTimeline(const Actor& actor,
                                                               const std::string& case_id) {
  RequestFilter filter;
  filter.action = kAisocAction;
  filter.session = CaseSession(case_id);
  filter.limit = 500;
  Timeline entries;
  bool any = false;
  for (int page = 0; page < kMaxTimelinePages; ++page) {
    auto listed = gateway_.List(actor, filter);
    if (!listed.ok()) return std::move(listed).error();
    for (const Request& r : listed->requests) {
      any = true;
      int64_t since = 0;
      for (;;) {
        constexpr int kPage = 1000;
        auto events = gateway_.ListRequestEvents(actor, r.id, since, kPage);
        if (!events.ok()) return std::move(events).error();
        for (const Event& e : events.value()) {
          if (auto entry = TimelineEntry(r, e)) entries.emplace_back(e.seq, std::move(*entry));
        }
        if (events->size() < static_cast<size_t>(kPage)) break;
        since = events->back().seq;
      }
    }
    if (listed->next_cursor.empty()) break;
    filter.cursor = listed->next_cursor;
  }
  if (!any) return Error::NotFound("no ChatOps verification for case " + Echo(case_id));
  return entries;
}

asio::awaitable<HttpResponse> AisocHandlers::CaseTimeline(RequestContext& ctx) {
  if (!options_.enabled) co_return Disabled();
  // A case's timeline says who was asked what and how they answered: it needs a token of
  // the tenant even when anonymous verifications are allowed.
  CompatIdentity reader = identity_;
  reader.anonymous = false;
  auto actor = co_await CompatCaller(authenticator_, gateway_, ctx.request, reader);
  if (!actor.ok()) co_return Plain(actor.error());
  const std::string case_id = ctx.path["case_id"];
  if (case_id.empty() || case_id.size() > kMaxCaseId || !IsPrintable(case_id)) {
    co_return Plain(Error::Malformed("case_id must be 1 to 123 printable bytes"));
  }
  auto read = [this, actor = actor.value(), case_id] { return CollectTimeline(actor, case_id); };
  auto timeline = co_await ReadEngine<Timeline>(gateway_, std::move(read));
  if (!timeline.ok()) co_return Plain(timeline.error());
  auto& entries = timeline.value();
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json::array out;
  out.reserve(entries.size());
  for (auto& [seq, entry] : entries) out.emplace_back(std::move(entry));
  co_return JsonResponse(http::status::ok,
                         json::object{{"case_id", case_id}, {"events", std::move(out)}});
}

}  // namespace countersign
