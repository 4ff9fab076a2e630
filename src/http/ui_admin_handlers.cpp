#include "http/ui_admin_handlers.hpp"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>
#include <boost/url/url.hpp>

#include "auth/token.hpp"
#include "core/id_generator.hpp"
#include "http/await_callback.hpp"
#include "http/engine_call.hpp"
#include "http/form_data.hpp"
#include "http/responses.hpp"

namespace countersign {
namespace {

// The newest outbox rows the overview derives channel health and counts from, and the most
// the outbox page shows.
constexpr int kHealthRows = 1000;
constexpr int kOutboxRows = 200;

// Bounds of the forms' fields, as their maxlength says; TokenRegistry checks the rest.
constexpr size_t kMaxName = 128;
constexpr size_t kMaxTenant = 64;
constexpr size_t kMaxGroupsField = 1400;
constexpr size_t kMaxGroups = 20;
constexpr size_t kMaxDestination = 200;

constexpr std::string_view kGroupPrefix = "group:";

std::string Trimmed(std::string text) {
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  return text;
}

std::vector<std::string> SplitGroups(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string Joined(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) return std::string(none);
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "15m", "1h30m" is not produced: the largest unit that divides the duration, as
// `countersign policy test` writes it.
std::string DurationWords(std::chrono::seconds duration) {
  struct Unit {
    const char* suffix;
    int64_t seconds;
  };
  constexpr Unit kUnits[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
  const int64_t s = duration.count();
  for (const Unit& unit : kUnits) {
    if (s != 0 && s % unit.seconds == 0) return std::to_string(s / unit.seconds) + unit.suffix;
  }
  return std::to_string(s) + "s";
}

// An approvers list for a person, as `countersign policy test` prints it: "alice, group:sre
// (bob, carol; or a token in group sre)".
std::string ApproversWords(const PolicySet& policies, const std::vector<std::string>& entries) {
  if (entries.empty()) return "any approver of the tenant";
  std::string out;
  for (const auto& entry : entries) {
    if (!out.empty()) out += ", ";
    if (entry == "*") {
      out += "* (any approver)";
      continue;
    }
    out += entry;
    if (!entry.starts_with(kGroupPrefix)) continue;
    const std::string group = entry.substr(kGroupPrefix.size());
    const std::string members = Joined(policies.Members(group), "");
    out += " (" + (members.empty() ? std::string("no members listed") : members) +
           "; or a token in group " + group + ")";
  }
  return out;
}

std::string DecisionWords(AutoDecision decision) {
  switch (decision) {
    case AutoDecision::kApprove:
      return "approve automatically (never a high-risk request)";
    case AutoDecision::kDeny:
      return "deny automatically";
    case AutoDecision::kNone:
      break;
  }
  return "ask people";
}

std::string EscalationWords(const PolicySet& policies, const Policy& policy,
                            std::chrono::seconds timeout) {
  std::string out;
  for (size_t i = 0; i < policy.escalate_to.size(); ++i) {
    const EscalationTier& tier = policy.escalate_to[i];
    if (!out.empty()) out += "; ";
    out += "escalation " + std::to_string(i + 1) + ": " + ApproversWords(policies, tier.approvers) +
           " for " + DurationWords(tier.timeout.count() > 0 ? tier.timeout : timeout);
    if (!tier.notify.empty()) out += ", notify " + Joined(tier.notify, "");
  }
  return out;
}

UiPolicyView PolicyView(const PolicySet& policies, const Policy& p, std::chrono::seconds timeout) {
  UiPolicyView v;
  v.name = p.name;
  v.source = p.source;
  v.match = "action " + p.match.action + " · requester " + p.match.requester + " · tenant " +
            p.match.tenant + " · risk " + (p.match.risk.empty() ? "any" : p.match.risk);
  v.approvers = ApproversWords(policies, p.approvers);
  v.quorum = std::to_string(p.quorum) +
             (p.deny_threshold > 1 ? "; " + std::to_string(p.deny_threshold) + " denials deny"
                                   : std::string());
  v.timeout = DurationWords(timeout) + ", then " + OnTimeoutName(p.on_timeout);
  v.escalation = EscalationWords(policies, p, timeout);
  v.reminders = p.remind_every ? "reminders every " + DurationWords(*p.remind_every) : "";
  v.risk = p.risk;
  v.decision = DecisionWords(p.decision);
  v.notify = Joined(p.notify, "none");
  return v;
}

// What `countersign policy test` prints for `facts` (cli/policy_command.cpp), line by line,
// from the same PolicySet::Evaluate.
UiPolicyTestReport TestReport(const PolicySet& policies, const RequestFacts& facts,
                              std::chrono::seconds default_timeout) {
  const PolicyVerdict verdict = policies.Evaluate(facts);
  const Policy& policy = *verdict.policy;
  const std::chrono::seconds timeout =
      verdict.policy == &policies.default_policy() ? default_timeout : policy.timeout;
  UiPolicyTestReport out;
  out.emplace_back("policy", policy.name + " (" + policy.source + ")");
  out.emplace_back("why", verdict.reason);
  out.emplace_back("high risk", verdict.high_risk
                                    ? "yes: never approved automatically, by policy or grant"
                                    : "no");
  std::string decision = "ask people";
  if (verdict.decision == AutoDecision::kApprove) {
    decision = "approved automatically; no one is asked";
  } else if (verdict.decision == AutoDecision::kDeny) {
    decision = "denied automatically; no one is asked";
  } else if (policy.decision == AutoDecision::kApprove) {
    decision = "ask people (the policy's automatic approval does not apply to high risk)";
  }
  out.emplace_back("decision", decision);
  out.emplace_back("quorum",
                   std::to_string(policy.quorum) +
                       (policy.quorum == 1 ? " approval" : " approvals from distinct people") +
                       " (never the requester)");
  out.emplace_back("deny threshold", policy.deny_threshold == 1
                                         ? std::string("1 denial resolves it denied")
                                         : std::to_string(policy.deny_threshold) +
                                               " denials from distinct people resolve it denied");
  out.emplace_back("approvers", ApproversWords(policies, policy.approvers));
  out.emplace_back("timeout",
                   DurationWords(timeout) + ", then " + OnTimeoutName(policy.on_timeout));
  for (size_t i = 0; i < policy.escalate_to.size(); ++i) {
    const EscalationTier& tier = policy.escalate_to[i];
    std::string text = ApproversWords(policies, tier.approvers) + " for " +
                       DurationWords(tier.timeout.count() > 0 ? tier.timeout : timeout);
    if (!tier.notify.empty()) text += "; notify " + Joined(tier.notify, "");
    out.emplace_back("escalation " + std::to_string(i + 1), text);
  }
  out.emplace_back("notify", Joined(policy.notify, "none"));
  out.emplace_back("reminders",
                   policy.remind_every ? "every " + DurationWords(*policy.remind_every) : "none");
  return out;
}

UiOutboxItem OutboxItem(const OutboxRow& row, bool show_tenant) {
  UiOutboxItem item;
  item.delivery_id = row.delivery_id;
  item.tenant = show_tenant ? row.tenant : "";
  item.request_id = row.request_id;
  item.destination = row.destination;
  item.kind = row.kind;
  item.event = row.event;
  item.state = row.state;
  item.attempts = row.attempts;
  item.next_attempt_at = row.next_attempt_at;
  item.last_error = row.last_error;
  item.created_at = row.created_at;
  return item;
}

bool KnownOutboxState(std::string_view state) {
  return state.empty() || state == "pending" || state == "failed" || state == "delivered";
}

// What the overview reads in one go on the read executor.
struct AdminFacts {
  std::vector<Principal> tokens;
  std::vector<Grant> grants;
  std::vector<OutboxRow> outbox;  // the newest kHealthRows, newest first
};

}  // namespace

UiAdminHandlers::UiAdminHandlers(Gateway& gateway, TokenRegistry& tokens, UiGate& gate,
                                 const ChannelSet& channels, Clock& clock, UiAdminPages pages,
                                 UiAdminOptions options)
    : gateway_(gateway),
      tokens_(tokens),
      gate_(gate),
      channels_(channels),
      clock_(clock),
      pages_(std::move(pages)),
      options_(std::move(options)) {}

void UiAdminHandlers::Register(Router& router) {
  using A = Router::Access;
  auto add = [&](http::verb verb, const char* path, AdminHandler handler) {
    router.Add(verb, path, A::kPublic,
               [this, handler](RequestContext& ctx) { return Admin(ctx, handler); });
  };
  add(http::verb::get, "/ui/admin", &UiAdminHandlers::Overview);
  add(http::verb::get, "/ui/admin/tokens", &UiAdminHandlers::Tokens);
  add(http::verb::post, "/ui/admin/tokens", &UiAdminHandlers::CreateToken);
  add(http::verb::post, "/ui/admin/tokens/{id}/revoke", &UiAdminHandlers::RevokeToken);
  add(http::verb::get, "/ui/admin/grants", &UiAdminHandlers::Grants);
  add(http::verb::post, "/ui/admin/grants/{id}/revoke", &UiAdminHandlers::RevokeGrant);
  add(http::verb::get, "/ui/admin/outbox", &UiAdminHandlers::Outbox);
  add(http::verb::post, "/ui/admin/outbox/{id}/retry", &UiAdminHandlers::RetryOutbox);
  add(http::verb::get, "/ui/admin/policies", &UiAdminHandlers::Policies);
  add(http::verb::post, "/ui/admin/policies/test", &UiAdminHandlers::TestPolicy);
}

asio::awaitable<HttpResponse> UiAdminHandlers::Admin(RequestContext& ctx, AdminHandler handler) {
  return gate_.Signed(ctx, [this, handler](RequestContext& c, const SignedIn& who) {
    return AdminOnly(c, who, handler);
  });
}

asio::awaitable<HttpResponse> UiAdminHandlers::AdminOnly(RequestContext& ctx, const SignedIn& who,
                                                         AdminHandler handler) {
  if (who.actor.role != Role::kAdmin) {
    co_return gate_.MessagePage(http::status::forbidden, who, ctx.request, "Admins only", "error",
                                "The Admin pages are for admins only; you are signed in as " +
                                    std::string(RoleName(who.actor.role)) +
                                    ". Nothing was changed.");
  }
  co_return co_await (this->*handler)(ctx, who);
}

HttpResponse UiAdminHandlers::Answer(
    const SignedIn& who, const HttpRequest& request, http::status status,
    const std::function<std::string(const UiViewer&)>& render) const {
  const std::string csrf = gate_.CsrfFor(request);
  return gate_.Page(status, render(gate_.ForPage(who, csrf)), csrf);
}

HttpResponse UiAdminHandlers::FormExpired(const SignedIn& who, const HttpRequest& request) const {
  return gate_.MessagePage(http::status::forbidden, who, request, "This form has expired", "error",
                           "Nothing was changed. Open the page again and retry.");
}

HttpResponse UiAdminHandlers::Unavailable(const SignedIn& who, const HttpRequest& request,
                                          const Error& error) const {
  return gate_.MessagePage(HttpStatusFor(error.code), who, request, "Unavailable", "error",
                           "The server cannot read this right now: " + error.message);
}

// -- the overview -------------------------------------------------------------------------------

asio::awaitable<HttpResponse> UiAdminHandlers::Overview(RequestContext& ctx, const SignedIn& who) {
  auto read = [this, actor = who.actor]() -> Result<AdminFacts> {
    AdminFacts facts;
    auto tokens = tokens_.List(actor);
    if (!tokens.ok()) return std::move(tokens).error();
    facts.tokens = std::move(tokens).value();
    auto grants = gateway_.ListGrants(actor);
    if (!grants.ok()) return std::move(grants).error();
    facts.grants = std::move(grants).value();
    auto outbox = gateway_.ListOutbox(actor, "", "", kHealthRows);
    if (!outbox.ok()) return std::move(outbox).error();
    facts.outbox = std::move(outbox).value();
    return facts;
  };
  auto facts = co_await ReadEngine<AdminFacts>(gateway_, std::move(read));
  if (!facts.ok()) co_return Unavailable(who, ctx.request, facts.error());

  UiAdminOverview overview;
  for (const Principal& p : facts->tokens)
    ++(p.revoked_at ? overview.tokens_revoked : overview.tokens_active);
  const TimePoint now = clock_.Now();
  overview.grants_active =
      static_cast<int>(std::count_if(facts->grants.begin(), facts->grants.end(),
                                     [now](const Grant& g) { return g.ActiveAt(now); }));
  overview.rows_read = static_cast<int>(facts->outbox.size());
  overview.outbox_capped = overview.rows_read >= kHealthRows;

  // Each destination the admin's tenant is served by, in configuration order.
  const bool everyone = who.actor.IsOperator();
  auto serves = [&](const ChannelSet::Entry& entry) {
    return everyone || entry.tenant.empty() || entry.tenant == who.actor.tenant;
  };
  std::map<std::string, size_t> index;  // destination → position in overview.channels
  auto add = [&](std::string kind, std::string name, std::string destination, std::string tenant) {
    index[destination] = overview.channels.size();
    UiChannelHealth health;
    health.kind = std::move(kind);
    health.name = std::move(name);
    health.destination = std::move(destination);
    health.tenant = everyone ? std::move(tenant) : "";
    overview.channels.push_back(std::move(health));
  };
  for (const auto& entry : channels_.channels()) {
    if (!serves(entry)) continue;
    const std::string& name = entry.channel->name();
    add(std::string(entry.channel->type()), name, name, entry.tenant);
  }
  for (const auto& entry : channels_.webhooks()) {
    if (!serves(entry)) continue;
    const std::string& name = entry.channel->name();
    add("webhook", name, "webhook:" + name, entry.tenant);
  }
  add("callback", "agent callbacks (callback_url)", "callback", "");
  // Rows come newest first, so the first delivered / failed / erring row of a destination is
  // its latest.
  for (const OutboxRow& row : facts->outbox) {
    if (row.state == "pending") ++overview.outbox_pending;
    if (row.state == "failed") ++overview.outbox_failed;
    auto found = index.find(row.destination);
    if (found == index.end()) continue;
    UiChannelHealth& health = overview.channels[found->second];
    if (row.state == "pending") {
      ++health.pending;
      if (!row.last_error.empty()) ++health.retrying;
    }
    if (row.state == "delivered" && !health.last_delivered) {
      health.last_delivered = row.next_attempt_at;  // the dispatcher stamps the attempt's time
    }
    if (row.state == "failed" && !health.last_failed) health.last_failed = row.next_attempt_at;
    if (health.last_error.empty() && !row.last_error.empty()) health.last_error = row.last_error;
  }
  // A callback row exists only for requests that named a callback_url: show it once it has one.
  if (const auto& callback = overview.channels.back();
      callback.pending == 0 && !callback.last_delivered && !callback.last_failed) {
    overview.channels.pop_back();
  }
  co_return Answer(who, ctx.request, http::status::ok,
                   [&](const UiViewer& viewer) { return pages_.Overview(viewer, overview); });
}

// -- tokens ------------------------------------------------------------------------------------

asio::awaitable<HttpResponse> UiAdminHandlers::TokensPage(const SignedIn& who,
                                                          const HttpRequest& request,
                                                          http::status status, UiNotice notice,
                                                          UiTokenForm form) {
  auto read = [this, actor = who.actor] { return tokens_.List(actor); };
  auto listed = co_await ReadEngine<std::vector<Principal>>(gateway_, std::move(read));
  if (!listed.ok()) co_return Unavailable(who, request, listed.error());
  const std::string self = HashToken(who.session.token);
  std::string self_id;
  for (const Principal& p : listed.value()) {
    if (p.token_sha256 == self) self_id = p.id;
  }
  co_return Answer(who, request, status, [&](const UiViewer& viewer) {
    return pages_.Tokens(viewer, listed.value(), self_id, who.actor.IsOperator(), notice, form);
  });
}

asio::awaitable<HttpResponse> UiAdminHandlers::Tokens(RequestContext& ctx, const SignedIn& who) {
  UiNotice notice;
  if (const std::string revoked(ctx.Query("revoked")); IsWellFormedId(revoked, "tok_")) {
    notice = {"Token " + revoked + " was revoked: it no longer works, and its sessions end.", "ok"};
  }
  co_return co_await TokensPage(who, ctx.request, http::status::ok, std::move(notice),
                                UiTokenForm());
}

asio::awaitable<HttpResponse> UiAdminHandlers::CreateToken(RequestContext& ctx,
                                                           const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) co_return FormExpired(who, ctx.request);
  UiTokenForm given;
  given.name = Trimmed(FormField(*form, "name"));
  given.role = FormField(*form, "role");
  given.groups = FormField(*form, "groups");
  given.tenant = Trimmed(FormField(*form, "tenant"));
  const std::vector<std::string> groups = SplitGroups(given.groups);
  const std::optional<Role> role = ParseRole(given.role);
  std::string refused;
  if (given.name.empty() || given.name.size() > kMaxName) {
    refused = "Give the token a name of 1 to " + std::to_string(kMaxName) + " characters.";
  } else if (!role) {
    refused = "Choose a role: agent, approver or admin.";
  } else if (given.groups.size() > kMaxGroupsField || groups.size() > kMaxGroups) {
    refused = "A token takes at most " + std::to_string(kMaxGroups) + " groups.";
  } else if (given.tenant.size() > kMaxTenant) {
    refused = "A tenant name has at most " + std::to_string(kMaxTenant) + " characters.";
  }
  if (!role) given.role = "agent";
  if (!refused.empty()) {
    given.name = Echo(given.name, kMaxName);
    UiNotice notice{"Not created: " + refused, "error"};
    co_return co_await TokensPage(who, ctx.request, http::status::unprocessable_entity,
                                  std::move(notice), std::move(given));
  }
  NewToken input;
  input.name = given.name;
  input.role = *role;
  input.tenant = given.tenant;
  input.groups = groups;
  auto issued = co_await CallEngine<IssuedToken>(
      gateway_, [&](auto done) { tokens_.Create(who.actor, std::move(input), std::move(done)); });
  if (!issued.ok()) {
    const Error& error = issued.error();
    const http::status status = error.code == ErrorCode::kInvalid
                                    ? http::status::unprocessable_entity
                                    : HttpStatusFor(error.code);
    UiNotice notice{"Not created: " + error.message + ".", "error"};
    co_return co_await TokensPage(who, ctx.request, status, std::move(notice), std::move(given));
  }
  spdlog::info("inbox: {} created token {} ({}) for {}", who.actor.name, issued->principal.id,
               RoleName(issued->principal.role), issued->principal.name);
  HttpResponse res = Answer(who, ctx.request, http::status::ok, [&](const UiViewer& viewer) {
    return pages_.TokenCreated(viewer, issued->principal, issued->token);
  });
  res.set(http::field::cache_control, "no-store");
  co_return res;
}

asio::awaitable<HttpResponse> UiAdminHandlers::RevokeToken(RequestContext& ctx,
                                                           const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) co_return FormExpired(who, ctx.request);
  const std::string id(ctx.path["id"]);
  if (FormField(*form, "confirm") != "1") {
    UiNotice notice{"Not revoked: tick the box next to Revoke to confirm.", "error"};
    co_return co_await TokensPage(who, ctx.request, http::status::unprocessable_entity,
                                  std::move(notice), UiTokenForm());
  }
  Status revoked = co_await AwaitCallback<Status>(
      [&](auto done) { tokens_.Revoke(who.actor, id, std::move(done)); });
  if (!revoked.ok()) {
    const http::status status = HttpStatusFor(revoked.error().code);
    UiNotice notice{"Not revoked: " + revoked.error().message + ".", "error"};
    co_return co_await TokensPage(who, ctx.request, status, std::move(notice), UiTokenForm());
  }
  spdlog::info("inbox: {} revoked token {}", who.actor.name, id);
  co_return gate_.SeeOther("/ui/admin/tokens?revoked=" + id);
}

// -- grants ------------------------------------------------------------------------------------

asio::awaitable<HttpResponse> UiAdminHandlers::GrantsPage(const SignedIn& who,
                                                          const HttpRequest& request,
                                                          http::status status, UiNotice notice) {
  auto read = [this, actor = who.actor] { return gateway_.ListGrants(actor); };
  auto grants = co_await ReadEngine<std::vector<Grant>>(gateway_, std::move(read));
  if (!grants.ok()) co_return Unavailable(who, request, grants.error());
  const TimePoint now = clock_.Now();
  std::vector<Grant> active;
  for (Grant& g : grants.value()) {
    if (g.ActiveAt(now)) active.push_back(std::move(g));
  }
  co_return Answer(who, request, status,
                   [&](const UiViewer& viewer) { return pages_.Grants(viewer, active, notice); });
}

asio::awaitable<HttpResponse> UiAdminHandlers::Grants(RequestContext& ctx, const SignedIn& who) {
  UiNotice notice;
  if (const std::string revoked(ctx.Query("revoked")); IsWellFormedId(revoked, "grt_")) {
    notice = {"Grant " + revoked + " was revoked: its action is asked again.", "ok"};
  }
  co_return co_await GrantsPage(who, ctx.request, http::status::ok, std::move(notice));
}

asio::awaitable<HttpResponse> UiAdminHandlers::RevokeGrant(RequestContext& ctx,
                                                           const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) co_return FormExpired(who, ctx.request);
  const std::string id(ctx.path["id"]);
  auto revoked = co_await CallEngine<Grant>(
      gateway_, [&](auto done) { gateway_.RevokeGrant(who.actor, id, std::move(done)); });
  if (!revoked.ok()) {
    const http::status status = HttpStatusFor(revoked.error().code);
    UiNotice notice{"Not revoked: " + revoked.error().message + ".", "error"};
    co_return co_await GrantsPage(who, ctx.request, status, std::move(notice));
  }
  spdlog::info("inbox: {} revoked grant {}", who.actor.name, id);
  co_return gate_.SeeOther("/ui/admin/grants?revoked=" + id);
}

// -- the outbox --------------------------------------------------------------------------------

asio::awaitable<HttpResponse> UiAdminHandlers::OutboxPage(const SignedIn& who,
                                                          const HttpRequest& request,
                                                          http::status status, std::string state,
                                                          std::string destination,
                                                          UiNotice notice) {
  if (!KnownOutboxState(state) || destination.size() > kMaxDestination) {
    const std::string why =
        destination.size() > kMaxDestination
            ? "That destination name is too long."
            : "Unknown state '" + Echo(state) + "': show all, pending, failed or delivered.";
    co_return Answer(who, request, http::status::bad_request, [&](const UiViewer& viewer) {
      return pages_.Outbox(viewer, {}, "", "", kOutboxRows, {why, "error"});
    });
  }
  // A destination is picked out of the newest rows of the state asked for.
  const int limit = destination.empty() ? kOutboxRows : kHealthRows;
  auto read = [this, actor = who.actor, state, limit] {
    return gateway_.ListOutbox(actor, state, "", limit);
  };
  auto rows = co_await ReadEngine<std::vector<OutboxRow>>(gateway_, std::move(read));
  if (!rows.ok()) co_return Unavailable(who, request, rows.error());
  std::vector<UiOutboxItem> items;
  for (const OutboxRow& row : rows.value()) {
    if (!destination.empty() && row.destination != destination) continue;
    if (static_cast<int>(items.size()) == kOutboxRows) break;
    items.push_back(OutboxItem(row, who.actor.IsOperator()));
  }
  co_return Answer(who, request, status, [&](const UiViewer& viewer) {
    return pages_.Outbox(viewer, items, state, destination, kOutboxRows, notice);
  });
}

asio::awaitable<HttpResponse> UiAdminHandlers::Outbox(RequestContext& ctx, const SignedIn& who) {
  UiNotice notice;
  if (const std::string retried(ctx.Query("retried")); IsWellFormedId(retried, "dlv_")) {
    notice = {"Delivery " + retried + " is due now: the dispatcher attempts it at once.", "ok"};
  }
  std::string state(ctx.Query("state"));
  std::string destination(ctx.Query("destination"));
  co_return co_await OutboxPage(who, ctx.request, http::status::ok, std::move(state),
                                std::move(destination), std::move(notice));
}

asio::awaitable<HttpResponse> UiAdminHandlers::RetryOutbox(RequestContext& ctx,
                                                           const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) co_return FormExpired(who, ctx.request);
  const std::string id(ctx.path["id"]);
  std::string state = FormField(*form, "state");
  if (!KnownOutboxState(state)) state.clear();
  auto retried = co_await CallEngine<OutboxRow>(
      gateway_, [&](auto done) { gateway_.RetryOutbox(who.actor, id, std::move(done)); });
  if (!retried.ok()) {
    const http::status status = HttpStatusFor(retried.error().code);
    UiNotice notice{"Not retried: " + retried.error().message + ".", "error"};
    co_return co_await OutboxPage(who, ctx.request, status, std::move(state), std::string(),
                                  std::move(notice));
  }
  if (options_.wake_dispatcher) options_.wake_dispatcher();
  spdlog::info("inbox: {} retried delivery {} to {}", who.actor.name, id, retried->destination);
  boost::urls::url target;
  if (!state.empty()) target.params().append({"state", state});
  target.params().append({"retried", id});
  co_return gate_.SeeOther("/ui/admin/outbox?" + std::string(target.encoded_query()));
}

// -- policies ----------------------------------------------------------------------------------

HttpResponse UiAdminHandlers::PoliciesPage(const SignedIn& who, const HttpRequest& request,
                                           http::status status, const UiPolicyTestInput& input,
                                           const UiPolicyTestReport& report,
                                           const UiNotice& notice) const {
  const auto policies = gateway_.Policies();
  UiPoliciesView view;
  for (const Policy& p : policies->policies())
    view.policies.push_back(PolicyView(*policies, p, p.timeout));
  view.policies.push_back(
      PolicyView(*policies, policies->default_policy(), options_.default_timeout));
  for (const auto& [name, entries] : policies->groups()) {
    view.groups.emplace_back(name, Joined(entries, "(no members)"));
  }
  view.high_risk_actions = Joined(policies->high_risk_actions(), "none");
  return Answer(who, request, status, [&](const UiViewer& viewer) {
    return pages_.Policies(viewer, view, input, report, notice);
  });
}

asio::awaitable<HttpResponse> UiAdminHandlers::Policies(RequestContext& ctx, const SignedIn& who) {
  UiPolicyTestInput input;
  input.tenant = who.actor.tenant;
  co_return PoliciesPage(who, ctx.request, http::status::ok, input, {}, {});
}

asio::awaitable<HttpResponse> UiAdminHandlers::TestPolicy(RequestContext& ctx,
                                                          const SignedIn& who) {
  auto form = gate_.GuardedForm(ctx.request);
  if (!form) co_return FormExpired(who, ctx.request);
  UiPolicyTestInput input;
  input.action = Trimmed(FormField(*form, "action"));
  input.requester = Trimmed(FormField(*form, "requester"));
  input.tenant = Trimmed(FormField(*form, "tenant"));
  input.risk = FormField(*form, "risk");
  if (input.tenant.empty()) input.tenant = who.actor.tenant;
  std::string refused;
  if (input.action.empty() || input.action.size() > kMaxName) {
    refused = "Give an action of 1 to " + std::to_string(kMaxName) + " characters.";
  } else if (input.requester.size() > kMaxName) {
    refused = "A requester has at most " + std::to_string(kMaxName) + " characters.";
  } else if (input.tenant.size() > kMaxTenant) {
    refused = "A tenant has at most " + std::to_string(kMaxTenant) + " characters.";
  } else if (!input.risk.empty() && input.risk != "normal" && input.risk != "high") {
    refused = "The risk is none, normal or high.";
  }
  if (!refused.empty()) {
    input.action = Echo(input.action, kMaxName);
    input.requester = Echo(input.requester, kMaxName);
    input.tenant = Echo(input.tenant, kMaxTenant);
    if (input.risk != "normal" && input.risk != "high") input.risk.clear();
    co_return PoliciesPage(who, ctx.request, http::status::unprocessable_entity, input, {},
                           {"Not tested: " + refused, "error"});
  }
  const auto policies = gateway_.Policies();
  const RequestFacts facts{input.action, input.requester, input.tenant, input.risk};
  const UiPolicyTestReport report = TestReport(*policies, facts, options_.default_timeout);
  co_return PoliciesPage(who, ctx.request, http::status::ok, input, report, {});
}

}  // namespace countersign
