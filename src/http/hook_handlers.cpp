#include "http/hook_handlers.hpp"

#include <functional>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "core/ascii.hpp"
#include "core/json_duplicate_keys.hpp"
#include "http/engine_call.hpp"
#include "http/form_data.hpp"
#include "http/responses.hpp"
#include "notify/chat_text.hpp"
#include "notify/grant_buttons.hpp"
#include "notify/slack_conversation_chat.hpp"

namespace countersign {
namespace {

using RequestPtr = Gateway::RequestPtr;

HttpResponse Ack() { return TextResponse(http::status::ok, "", "text/plain; charset=utf-8"); }

// The Events API's endpoint check: {"type": "url_verification", "challenge": "..."}.
std::optional<std::string> UrlVerificationChallenge(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object() || FindDuplicateKey(body)) return std::nullopt;
  const auto& o = v.get_object();
  const auto* type = o.if_contains("type");
  const auto* challenge = o.if_contains("challenge");
  if (!type || !challenge || !type->is_string() || !challenge->is_string() ||
      type->get_string() != "url_verification") {
    return std::nullopt;
  }
  return std::string(challenge->get_string());
}

// The callback as the channels verify it: headers lower-cased, the body as received.
InboundCallback Inbound(const RequestContext& ctx) {
  InboundCallback inbound;
  for (const auto& field : ctx.request) {
    inbound.headers[AsciiLower(field.name_string())] = std::string(field.value());
  }
  inbound.body = ctx.request.body();
  return inbound;
}

constexpr std::string_view kTelegramFormToast =
    "This request asks for a form: I sent you a private message with a link to it. No message? "
    "Open a chat with me, press Start, then press the button again.";

// CHANNEL_MESSAGE_WITH_SOURCE, ephemeral (flags 64): only the person who clicked sees it.
HttpResponse DiscordEphemeral(const std::string& text) {
  return JsonResponse(http::status::ok,
                      boost::json::object{{"type", 4}, {"data", DiscordChannel::Ephemeral(text)}});
}

bool IsSslCheck(const std::string& body) {
  auto form = ParseFormData(body);
  if (!form.ok()) return false;
  auto it = form->find("ssl_check");
  return it != form->end() && it->second == "1" && form->find("payload") == form->end();
}

}  // namespace

HookHandlers::HookHandlers(Gateway& gateway, const Clock& clock, const ChannelSet& channels,
                           std::map<std::string, std::string> identities, Metrics* metrics)
    : gateway_(gateway), clock_(clock), identities_(std::move(identities)), metrics_(metrics) {
  for (const auto* entry : channels.OfType("slack")) {
    slack_.push_back({entry->channel.get(), entry->tenant});
  }
  for (const auto* entry : channels.OfType("telegram")) {
    const auto* telegram = dynamic_cast<const TelegramChannel*>(entry->channel.get());
    if (telegram) telegram_.push_back({telegram, entry->tenant});
  }
  for (const auto* entry : channels.OfType("discord")) {
    const auto* discord = dynamic_cast<const DiscordChannel*>(entry->channel.get());
    // A webhook-mode channel posts link buttons: it never receives interactions.
    if (discord && discord->mode() == DiscordChannel::Mode::kApplication) {
      discord_.push_back({discord, entry->tenant});
    }
  }
}

void HookHandlers::Register(Router& router) {
  router.Add(http::verb::post, "/hooks/slack/events", Router::Access::kPublic,
             [this](RequestContext& ctx) { return SlackEventsHook(ctx); });
  router.Add(http::verb::post, "/hooks/slack", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Slack(ctx); });
  router.Add(http::verb::post, "/hooks/telegram", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Telegram(ctx); });
  router.Add(http::verb::post, "/hooks/discord", Router::Access::kPublic,
             [this](RequestContext& ctx) { return Discord(ctx); });
}

void HookHandlers::OfferPress(ChannelCallback press, std::string channel, std::string tenant,
                              std::string platform, std::function<void(PressOutcome)> done) {
  auto task = [this, press = std::move(press), channel = std::move(channel),
               tenant = std::move(tenant), platform = std::move(platform), done]() mutable {
    OfferPressNow(press, channel, tenant, platform, std::move(done));
  };
  if (!gateway_.RunOnReadExecutor(std::move(task))) {
    done({PressOutcome::Kind::kFailed, nullptr, "countersign is busy; try again in a moment"});
  }
}

void HookHandlers::OfferPressNow(const ChannelCallback& press, const std::string& channel,
                                 const std::string& tenant, std::string_view platform,
                                 std::function<void(PressOutcome)> done) {
  using Kind = PressOutcome::Kind;
  std::string choice = press.choice;
  // A grant button names only a scope: its duration is the request's own option, as stored.
  std::optional<GrantOption> option;
  bool offered = true;
  if (press.choice_index || !press.grant_scope.empty()) {
    auto found = gateway_.GetInTenant(tenant, press.request_id);
    if (!found.ok()) {
      done({Kind::kFailed, nullptr,
            found.error().code == ErrorCode::kNotFound
                ? "this request no longer exists"
                : "countersign cannot read the request now; try again"});
      return;
    }
    const std::vector<Choice>& choices = found.value()->choices;
    if (press.choice_index) {
      if (*press.choice_index >= choices.size()) {
        done({Kind::kFailed, nullptr, "this button does not match the request"});
        return;
      }
      choice = choices[*press.choice_index].id;
    }
    if (!press.grant_scope.empty()) {
      const GrantOption* stored = GrantOptionOfScope(*found.value(), press.grant_scope);
      offered = stored != nullptr;
      if (stored) option = *stored;
    }
  }

  if (choice.starts_with("conv_")) {
    OfferConversationPress(press, channel, tenant, std::move(done));
    return;
  }
  DecisionVia via{channel, press.identity, press.response_url};
  auto mapped = identities_.find(press.identity);
  if (mapped == identities_.end()) {
    const size_t colon = press.identity.find(':');
    std::string reason = "not authorised: " + std::string(platform) + " user " +
                         press.identity.substr(colon + 1) + " is not mapped to a principal";
    gateway_.RejectCallback(tenant, press.request_id, std::move(via), reason,
                            [done = std::move(done), reason](Result<Gateway::RequestPtr> r) {
                              done({r.ok() ? Kind::kUnmapped : Kind::kFailed, nullptr, reason});
                            });
    return;
  }
  if (!offered) {
    // A key no button of ours carries (forged, or of a request that offers no such grant):
    // refused on the record like any other refusal, and nothing is decided.
    std::string reason =
        "this request does not offer " +
        std::string(press.grant_scope == "session" ? "approving for this session"
                                                   : "always approving for its requester") +
        "; nothing was decided";
    gateway_.RejectCallback(tenant, press.request_id, std::move(via), reason,
                            [done = std::move(done), reason](Result<Gateway::RequestPtr> r) {
                              done({r.ok() ? Kind::kRefused : Kind::kFailed, nullptr, reason});
                            });
    return;
  }
  const Actor actor = gateway_.PrincipalActor(tenant, mapped->second);
  NewDecision input;
  input.choice = choice;
  input.via = std::move(via);
  if (option) {
    NewGrant grant;
    grant.scope = option->scope;
    grant.ttl_seconds = option->ttl.count();
    input.grant = std::move(grant);
  }
  gateway_.Decide(
      actor, press.request_id, std::move(input),
      [this, done = std::move(done), tenant, id = press.request_id, principal = mapped->second,
       choice = std::move(choice), option](Result<Gateway::RequestPtr> r) {
        if (r.ok()) {
          if (metrics_) metrics_->CountDecision();
          PressOutcome decided{Kind::kDecided, std::move(r).value(), ""};
          // The approval that resolved the request gave the grant with it (lifecycle).
          if (option && decided.request->status == RequestStatus::kApproved) {
            decided.granted = option;
          }
          done(std::move(decided));
          return;
        }
        // Decide puts these on the record (decision.rejected with `via`).
        const ErrorCode code = r.error().code;
        const bool recorded = code == ErrorCode::kForbidden || code == ErrorCode::kConflict ||
                              code == ErrorCode::kInvalid;
        PressOutcome outcome{recorded ? Kind::kRefused : Kind::kFailed, nullptr, r.error().message};
        if (code != ErrorCode::kInvalid || !r.error().field.starts_with("response")) {
          done(std::move(outcome));
          return;
        }
        // Refused for want of the form: the person is offered it, which needs the request.
        outcome.form_for = principal;
        outcome.form_choice = choice;
        auto read = [this, done, tenant, id, outcome]() mutable {
          auto found = gateway_.GetInTenant(tenant, id);
          if (found.ok()) outcome.request = std::move(found).value();
          done(std::move(outcome));
        };
        if (!gateway_.RunOnReadExecutor(read)) done(std::move(outcome));
      });
}

void HookHandlers::LogPress(std::string_view platform, const ChannelCallback& press,
                            const std::optional<PressOutcome>& outcome) {
  if (!outcome) {
    spdlog::warn("{}: the press of {} ({}) on {} took the engine over {} ms; answered first",
                 platform, press.identity, press.display_name, press.request_id,
                 kAnswerWithin.count());
    return;
  }
  switch (outcome->kind) {
    case PressOutcome::Kind::kDecided:
      break;
    case PressOutcome::Kind::kRefused:
      spdlog::info("{}: {} ({}) could not decide {}: {}", platform, press.identity,
                   press.display_name, press.request_id, outcome->message);
      break;
    case PressOutcome::Kind::kUnmapped:
    case PressOutcome::Kind::kFailed:
      spdlog::warn("{}: {} ({}) pressed a button of {}: {}", platform, press.identity,
                   press.display_name, press.request_id, outcome->message);
      break;
  }
}

asio::awaitable<HttpResponse> HookHandlers::Slack(RequestContext& ctx) {
  const TimePoint deadline = clock_.Now() + kAnswerWithin;
  const InboundCallback inbound = Inbound(ctx);
  const TimePoint now = clock_.Now();

  const Hook<Channel>* owner = nullptr;
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

  auto outcome = co_await AwaitUntil<PressOutcome>(gateway_.alarms(), deadline, [&](auto done) {
    OfferPress(*press, owner->channel->name(), owner->tenant, "Slack", std::move(done));
  });
  LogPress("slack", *press, outcome);
  // Whatever happened is on the record; the outbox tells the person and edits the message.
  co_return Ack();
}

void HookHandlers::OfferSocketPress(const SlackChannel& channel, const std::string& tenant,
                                    ChannelCallback press) {
  ChannelCallback logged = press;
  OfferPress(
      std::move(press), channel.name(), tenant, "Slack",
      [logged = std::move(logged)](PressOutcome outcome) { LogPress("slack", logged, outcome); });
}

void HookHandlers::OfferConversationPress(const ChannelCallback& press, const std::string& channel,
                                          const std::string& tenant,
                                          std::function<void(PressOutcome)> done) {
  using Kind = PressOutcome::Kind;
  using Chat = SlackConversationChat;
  std::optional<Actor> actor;
  if (auto it = identities_.find(press.identity); it != identities_.end()) {
    actor = gateway_.PrincipalActor(tenant, it->second);
  }
  auto change = [actor, via = DecisionVia{channel, press.identity, press.response_url},
                 policies = gateway_.Policies(), choice = press.choice,
                 identity = press.identity](const Request& r, const Conversation& c,
                                            TimePoint now) -> Result<ConversationPlan> {
    const ConversationActor by = ActorOn(r, identity, actor, *policies, via);
    if (choice == Chat::kStartChoice) return PlanStartChat(r, c, by, now);
    if (choice == Chat::kDismissChoice) return PlanDismiss(r, c, by, now);
    if (choice == Chat::kEndChoice) return PlanEndChat(r, c, by, now);
    if (choice == Chat::kConfirmedChoice) return PlanAnalystVerdict(r, c, by, true, now);
    if (choice == Chat::kDeniedChoice) return PlanAnalystVerdict(r, c, by, false, now);
    return Error::Invalid("unknown conversation button '" + choice + "'");
  };
  gateway_.ChangeConversation(
      tenant, press.request_id, std::move(change),
      [done = std::move(done)](Result<Gateway::ConversationChanged> changed) {
        if (changed.ok()) {
          done({Kind::kDecided, changed->request, ""});
          return;
        }
        // Refusals by the rules are on the record (decision.rejected, answered through `via`).
        const ErrorCode code = changed.error().code;
        const bool recorded = code == ErrorCode::kForbidden || code == ErrorCode::kConflict;
        done({recorded ? Kind::kRefused : Kind::kFailed, nullptr, changed.error().message});
      });
}

asio::awaitable<HttpResponse> HookHandlers::SlackEventsHook(RequestContext& ctx) {
  const InboundCallback inbound = Inbound(ctx);
  const TimePoint now = clock_.Now();
  if (IsSslCheck(inbound.body)) co_return Ack();
  const SlackChannel* owner = nullptr;
  std::string tenant;
  std::string refusal = "no Slack channel is configured";
  for (const auto& hook : slack_) {
    const auto* slack = dynamic_cast<const SlackChannel*>(hook.channel);
    if (!slack) continue;
    Status verified = slack->VerifyRequest(inbound, now);
    if (verified.ok()) {
      owner = slack;
      tenant = hook.tenant;
      break;
    }
    refusal = verified.error().message;
  }
  if (!owner) {
    spdlog::warn("POST /hooks/slack/events refused: {}", refusal);
    co_return ErrorResponse(Error::Unauthorized("the Slack signature does not verify"));
  }
  // Verified: from here on the body is Slack's own.
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(inbound.body, ec);
  if (ec || !body.is_object())
    co_return ErrorResponse(Error::Malformed("the body is not a JSON object"));
  if (auto twice = FindDuplicateKey(inbound.body)) {
    co_return ErrorResponse(Error::Malformed("the body names the key \"" + *twice + "\" twice"));
  }
  if (auto challenge = UrlVerificationChallenge(inbound.body)) {
    co_return JsonResponse(http::status::ok, boost::json::object{{"challenge", *challenge}});
  }
  const auto* type = body.get_object().if_contains("type");
  if (type && type->is_string() && type->get_string() == "event_callback" && slack_events_) {
    slack_events_->Handle(*owner, tenant, body.get_object());
  }
  co_return Ack();
}

asio::awaitable<HttpResponse> HookHandlers::Telegram(RequestContext& ctx) {
  const TimePoint deadline = clock_.Now() + kAnswerWithin;
  const InboundCallback inbound = Inbound(ctx);
  const TimePoint now = clock_.Now();

  const Hook<TelegramChannel>* owner = nullptr;
  std::optional<TelegramCallbackQuery> query;
  bool verified = false;
  for (const auto& hook : telegram_) {
    auto read = hook.channel->ReadUpdate(inbound, now);
    if (!read.ok()) {
      if (read.error().code == ErrorCode::kUnauthorized) continue;
      // Telegram's, but not a callback query (or not one we can read): nothing to do.
      verified = true;
      break;
    }
    verified = true;
    const bool ours = read->press && read->in_chat;
    if (ours || !query) query = std::move(read).value();
    if (ours) {
      owner = &hook;
      break;
    }
  }
  if (!verified) {
    spdlog::warn("POST /hooks/telegram refused: the secret token matches no Telegram channel");
    co_return ErrorResponse(Error::Unauthorized("the Telegram secret token does not match"));
  }
  // A query no channel owns (another bot feature's button, a chat we do not post in) is
  // still answered, so its button stops spinning.
  if (!owner) {
    if (query)
      co_return JsonResponse(http::status::ok, TelegramChannel::WebhookAnswer(query->id, ""));
    co_return Ack();
  }

  const ChannelCallback& press = *query->press;
  auto outcome = co_await AwaitUntil<PressOutcome>(gateway_.alarms(), deadline, [&](auto done) {
    OfferPress(press, owner->channel->name(), owner->tenant, "Telegram", std::move(done));
  });
  LogPress("telegram", press, outcome);
  // Recorded outcomes are answered by the outbox; one that left no record, here.
  if (outcome && outcome->kind == PressOutcome::Kind::kFailed) {
    co_return JsonResponse(http::status::ok,
                           TelegramChannel::WebhookAnswer(query->id, outcome->message));
  }
  // Refused for want of the form: the outbox sends the link in a private message, since a
  // query's answer cannot carry one; this says where to look.
  if (outcome && outcome->request && outcome->request->pending() && !outcome->form_for.empty()) {
    co_return JsonResponse(http::status::ok,
                           TelegramChannel::WebhookAnswer(query->id, kTelegramFormToast));
  }
  co_return Ack();
}

asio::awaitable<HttpResponse> HookHandlers::Discord(RequestContext& ctx) {
  const TimePoint deadline = clock_.Now() + kAnswerWithin;
  const InboundCallback inbound = Inbound(ctx);
  const TimePoint now = clock_.Now();

  const Hook<DiscordChannel>* owner = nullptr;
  std::optional<DiscordInteraction> interaction;
  bool verified = false;
  std::string refusal = "no Discord application channel is configured";
  for (const auto& hook : discord_) {
    auto read = hook.channel->ReadInteraction(inbound, now);
    if (!read.ok()) {
      if (read.error().code == ErrorCode::kUnauthorized) {
        refusal = read.error().message;
        continue;
      }
      verified = true;
      break;
    }
    verified = true;
    if (read->type == DiscordInteraction::Type::kPing) {
      co_return JsonResponse(http::status::ok, boost::json::object{{"type", 1}});
    }
    const bool ours = read->press && read->in_channel;
    if (ours || !interaction) interaction = std::move(read).value();
    if (ours) {
      owner = &hook;
      break;
    }
  }
  if (!verified) {
    spdlog::warn("POST /hooks/discord refused: {}", refusal);
    co_return ErrorResponse(Error::Unauthorized("the Discord signature does not verify"));
  }
  if (!interaction) co_return ErrorResponse(Error::Malformed("not a Discord interaction"));
  if (!owner) co_return DiscordEphemeral("countersign only handles its own buttons here");

  const ChannelCallback& press = *interaction->press;
  auto outcome = co_await AwaitUntil<PressOutcome>(gateway_.alarms(), deadline, [&](auto done) {
    OfferPress(press, owner->channel->name(), owner->tenant, "Discord", std::move(done));
  });
  LogPress("discord", press, outcome);
  if (!outcome) {
    // DEFERRED_UPDATE_MESSAGE: acknowledged; the outbox edits the message once it is decided.
    co_return JsonResponse(http::status::ok, boost::json::object{{"type", 6}});
  }
  if (outcome->kind != PressOutcome::Kind::kDecided) {
    if (outcome->request && !outcome->form_for.empty()) {
      co_return JsonResponse(
          http::status::ok,
          boost::json::object{
              {"type", 4},
              {"data", owner->channel->FormOffer(*outcome->request, outcome->form_choice,
                                                 outcome->form_for, outcome->message)}});
    }
    co_return DiscordEphemeral(outcome->message);
  }
  auto data = owner->channel->MessageData(*outcome->request, "decision.recorded", outcome->granted);
  if (!data.ok()) {
    spdlog::warn("discord: cannot render {}: {}", outcome->request->id, data.error().message);
    co_return JsonResponse(http::status::ok, boost::json::object{{"type", 6}});
  }
  // UPDATE_MESSAGE: the clicked message shows the decision at once.
  co_return JsonResponse(http::status::ok,
                         boost::json::object{{"type", 7}, {"data", std::move(data).value()}});
}

}  // namespace countersign
