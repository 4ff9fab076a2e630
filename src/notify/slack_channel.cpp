#include "notify/slack_channel.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/choice_meaning.hpp"
#include "core/execution_summary.hpp"
#include "core/id_generator.hpp"
#include "core/json_duplicate_keys.hpp"
#include "core/time_format.hpp"
#include "notify/chat_text.hpp"
#include "notify/grant_buttons.hpp"
#include "notify/request_text.hpp"
#include "notify/slack_mrkdwn.hpp"
#include "web/pretty_json.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

// Slack's transient failures: worth another attempt.
constexpr std::string_view kTransientErrors[] = {"ratelimited", "internal_error", "fatal_error",
                                                 "service_unavailable", "request_timeout"};
// The confirm dialog's limits.
constexpr size_t kMaxConfirmTitle = 100;
constexpr size_t kMaxConfirmText = 300;
constexpr size_t kMaxConfirmButton = 30;

json::object PlainText(std::string_view text, size_t max) {
  return {{"type", "plain_text"}, {"text", TruncateText(text, max)}, {"emoji", true}};
}

json::object MrkdwnObject(std::string text) {
  return {{"type", "mrkdwn"}, {"text", std::move(text)}};
}

json::object Section(std::string text) {
  return {{"type", "section"}, {"text", MrkdwnObject(std::move(text))}};
}

json::object Context(std::string text) {
  return {{"type", "context"}, {"elements", json::array{MrkdwnObject(std::move(text))}}};
}

// Slack shows a date token in the reader's own time zone; the fallback is for old clients.
std::string SlackDate(TimePoint t) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  return "<!date^" + std::to_string(seconds.count()) + "^{date_short_pretty} {time}|" +
         FormatTime(t) + ">";
}

std::string ChoiceLabel(const Request& r, const std::string& choice) {
  const Choice* c = r.FindChoice(choice);
  return c ? ChoiceMeaning::Caption(*c) : choice;
}

// Whether `body` is one of Slack's error codes ("no_service", "invalid_token"), not free text.
bool IsErrorCode(std::string_view body) {
  return !body.empty() && body.size() <= 64 && std::all_of(body.begin(), body.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
  });
}

// A triple backtick in the arguments would end the code block early.
std::string DefuseCodeFence(std::string text) {
  for (size_t at = text.find("```"); at != std::string::npos; at = text.find("```", at)) {
    text.replace(at, 3, "`\u200b`\u200b`");
  }
  return text;
}

std::string CodeSection(std::string_view heading, const std::string& code) {
  const std::string head = "*" + std::string(heading) + "*\n```";
  const size_t budget = SlackChannel::kMaxSection - TextLength(head) - 3;
  return head + Mrkdwn(DefuseCodeFence(code), budget) + "```";
}

std::string DetailsText(const json::object& details) {
  std::string raw;
  for (const auto& [key, value] : details) {
    if (!raw.empty()) raw += "\n";
    raw += std::string(key) + ": " +
           (value.is_string() ? std::string(value.get_string()) : json::serialize(value));
  }
  return "*Details*\n" + Mrkdwn(raw, SlackChannel::kMaxSection - 12);
}

// What happened so far: the resolution (and the grant given with it), then every decision
// with its comment.
std::string OutcomeText(const Request& r, const std::optional<GrantOption>& granted) {
  std::string head;
  const std::string by = EscapeMrkdwn(JoinText(r.resolved_by, ", "));
  switch (r.status) {
    case RequestStatus::kPending:
      if (r.decisions.empty()) return {};
      head = "*Decisions so far*";
      break;
    case RequestStatus::kApproved:
      head = ":white_check_mark: *Approved* by " + by;
      if (granted) head += " \u2014 and " + EscapeMrkdwn(GrantedText(r, *granted));
      break;
    case RequestStatus::kDenied:
      head = ":x: *Denied* by " + by;
      break;
    case RequestStatus::kAnswered:
      head = ":speech_balloon: *Answered* by " + by;
      break;
    case RequestStatus::kExpired:
      head = ":hourglass: *Expired*: no decision before the deadline";
      break;
    case RequestStatus::kCancelled:
      head = ":no_entry_sign: *Cancelled*";
      break;
    case RequestStatus::kDismissed:
      head = ":white_circle: *Dismissed* by " + by + ": no action needed";
      break;
    case RequestStatus::kEnded:
      head = ":stop_button: *Chat ended* by " + by;
      break;
  }
  std::string lines;
  for (const auto& d : r.decisions) {
    std::string line = "\u2022 *" + EscapeMrkdwn(d.principal) +
                       "*: " + EscapeMrkdwn(d.answer.empty() ? ChoiceLabel(r, d.choice) : d.answer);
    if (!d.comment.empty()) line += " \u2014 \u201c" + EscapeMrkdwn(d.comment) + "\u201d";
    lines += "\n" + line;
  }
  // What ran after the approval, as the executor reported it: next to the approval, so no
  // truncation of the decisions below cuts it off.
  if (r.execution) head += "\n:gear: " + EscapeMrkdwn(ExecutionSummary(*r.execution));
  return TruncateMrkdwn(head + lines, SlackChannel::kMaxSection);
}

std::string FallbackText(const Request& r) {
  std::string text;
  const std::string by = JoinText(r.resolved_by, ", ");
  switch (r.status) {
    case RequestStatus::kPending:
      text = r.kind == Kind::kVerification ? "Please confirm: "
             : r.kind == Kind::kQuestion   ? "Question: "
                                           : "Approval needed: ";
      text += r.title + " (" + r.action + ", requested by " + r.requester + ")";
      break;
    case RequestStatus::kApproved:
      text = "Approved by " + by + ": " + r.title;
      if (r.execution) text += " \u00b7 " + ExecutionSummary(*r.execution);
      break;
    case RequestStatus::kDenied:
      text = "Denied by " + by + ": " + r.title;
      break;
    case RequestStatus::kAnswered:
      text = "Answered by " + by + ": " + r.title;
      break;
    case RequestStatus::kExpired:
      text = "Expired without a decision: " + r.title;
      break;
    case RequestStatus::kCancelled:
      text = "Cancelled: " + r.title;
      break;
    case RequestStatus::kDismissed:
      text = "Dismissed by " + by + ": " + r.title;
      break;
    case RequestStatus::kEnded:
      text = "Chat ended by " + by + ": " + r.title;
      break;
  }
  return Mrkdwn(text, SlackChannel::kMaxMessageText);
}

// The short text of a threaded reply (reminders, escalations).
std::string ThreadText(const Request& r, std::string_view event) {
  std::string text;
  if (event == "request.escalated") {
    text = ":arrow_up: Escalated to level " + std::to_string(r.escalation_level);
    if (!r.approvers.empty())
      text += ": now waiting for " + EscapeMrkdwn(JoinText(r.approvers, ", "));
  } else {
    text = ":bell: Reminder: *" + EscapeMrkdwn(r.title) + "* is still waiting for a decision";
  }
  text += " (deadline " + SlackDate(r.deadline_at) + ").";
  return TruncateMrkdwn(text, SlackChannel::kMaxMessageText);
}

struct MessageRef {
  std::string channel;
  std::string ts;
};

std::optional<MessageRef> ParseMessageRef(std::string_view text) {
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* channel = v.get_object().if_contains("channel");
  const auto* ts = v.get_object().if_contains("ts");
  if (!channel || !ts || !channel->is_string() || !ts->is_string()) return std::nullopt;
  MessageRef ref{std::string(channel->get_string()), std::string(ts->get_string())};
  if (ref.channel.empty() || ref.ts.empty()) return std::nullopt;
  return ref;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; nullopt on a broken escape.
std::optional<std::string> FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The decoded value of form field `name`; nullopt when absent or undecodable.
std::optional<std::string> FormField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = FormDecode(pair.substr(0, eq));
    if (key && *key == name) return FormDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string StringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

bool IsChoiceId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

bool IsSlackId(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string Header(const InboundCallback& callback, const std::string& lower_name) {
  auto it = callback.headers.find(lower_name);
  return it == callback.headers.end() ? std::string() : it->second;
}

}  // namespace

SlackChannel::SlackChannel(std::string name, const LinkBuilder& links)
    : name_(std::move(name)), links_(links) {}

Result<std::unique_ptr<Channel>> SlackChannel::Create(ChannelSettings settings,
                                                      const LinkBuilder& links) {
  std::unique_ptr<SlackChannel> c(new SlackChannel(settings.name, links));
  const std::string where = settings.source + ": channel '" + settings.name + "' (slack)";
  auto bot_token = settings.Take("bot_token");
  auto webhook_url = settings.Take("webhook_url");
  if (bot_token && webhook_url) {
    return Error::Invalid(where + " takes bot_token or webhook_url, not both");
  }
  if (!bot_token && !webhook_url) {
    return Error::Invalid(where + " needs bot_token (Web API) or webhook_url (incoming webhook)");
  }
  auto signing_secret = settings.Take("signing_secret");
  if (bot_token) {
    c->mode_ = Mode::kWebApi;
    if (bot_token->empty())
      return Error::Invalid(settings.At("bot_token") + " has an empty bot_token");
    c->bot_token_ = std::move(*bot_token);
    auto channel = settings.TakeRequired("channel");
    if (!channel.ok()) return std::move(channel).error();
    c->channel_ = std::move(channel).value();
    auto api_base = settings.TakeApiBase(c->api_base_);
    if (!api_base.ok()) return std::move(api_base).error();
    c->api_base_ = std::move(api_base).value();
    const std::string mode = settings.Take("mode").value_or("events");
    if (mode != "events" && mode != "socket") {
      return Error::Invalid(settings.At("mode") + ": mode must be \"events\" or \"socket\"");
    }
    c->socket_mode_ = mode == "socket";
    c->app_token_ = settings.Take("app_token").value_or("");
    if (c->socket_mode_ && !c->app_token_.starts_with("xapp-")) {
      return Error::Invalid(where +
                            ": mode = \"socket\" needs app_token, an app-level token "
                            "starting with xapp- (scope connections:write)");
    }
    c->analyst_prefix_ = settings.Take("analyst_prefix").value_or("!");
    if (auto idle = settings.Take("socket_idle_seconds")) {
      int seconds = 0;
      const auto [end, ec] = std::from_chars(idle->data(), idle->data() + idle->size(), seconds);
      if (ec != std::errc() || end != idle->data() + idle->size() || seconds < 2 || seconds > 300) {
        return Error::Invalid(settings.At("socket_idle_seconds") +
                              ": socket_idle_seconds must be a whole number from 2 to 300");
      }
      c->socket_idle_timeout_ = std::chrono::seconds(seconds);
    }
    // Over Socket Mode Slack's events and button presses come through the connection, which
    // the app token authenticates; over HTTP they are signed with the signing secret.
    if (!c->socket_mode_ && (!signing_secret || signing_secret->empty())) {
      return Error::Invalid(where + " needs signing_secret: its buttons call back to /hooks/slack");
    }
  } else {
    c->mode_ = Mode::kWebhook;
    if (webhook_url->rfind("https://", 0) != 0 && webhook_url->rfind("http://", 0) != 0) {
      return Error::Invalid(settings.At("webhook_url") +
                            ": webhook_url must be an http or https URL");
    }
    c->webhook_url_ = std::move(*webhook_url);
    c->principal_ = settings.Take("principal").value_or("channel:" + settings.name);
    if (c->principal_.empty())
      return Error::Invalid(settings.At("principal") + " has an empty principal");
  }
  if (signing_secret && !signing_secret->empty()) {
    c->verifier_ = std::make_unique<SlackVerifier>(std::move(*signing_secret));
  }
  CS_RETURN_IF_ERROR(settings.RejectUnknown());
  return std::unique_ptr<Channel>(std::move(c));
}

std::vector<std::string> SlackChannel::KindsFor(std::string_view event_type) const {
  const bool created = event_type == "request.created";
  const bool escalated = event_type == "request.escalated";
  const bool reminded = event_type == "request.reminded";
  const bool resolution = event_type == "request.resolved" || event_type == "request.expired" ||
                          event_type == "request.cancelled";
  if (mode_ == Mode::kWebhook) {
    // A webhook cannot edit: each of these is a message of its own.
    if (created || escalated || reminded || resolution) return {"post"};
    return {};
  }
  // The message changes in place; a thread reply is what notifies people. The executor's
  // report shows in the message too (webhook mode has no message to edit, and a message of
  // its own for each report would be noise).
  if (event_type == "execution.reported") return {"update"};
  return EditInPlaceKinds(event_type);
}

Result<json::array> SlackChannel::Buttons(const Request& r) const {
  json::array buttons;
  // A question needs typed text, which a button cannot carry.
  if (mode_ == Mode::kWebApi && r.kind == Kind::kQuestion) return buttons;
  for (const Choice& c : r.choices) {
    json::object button{{"type", "button"},
                        {"text", PlainText(ChoiceButtonText(c, kMaxButtonText), kMaxButtonText)},
                        {"action_id", c.id}};
    if (mode_ == Mode::kWebApi) {
      std::string value =
          json::serialize(json::object{{"channel", name_}, {"request", r.id}, {"choice", c.id}});
      if (TextLength(value) > kMaxValue) {
        return Error::Invalid("slack button value over " + std::to_string(kMaxValue));
      }
      button["value"] = std::move(value);
    } else {
      std::string url = links_.Url(r, c.id, principal_);
      if (TextLength(url) > kMaxUrl) {
        return Error::Invalid("slack button url over " + std::to_string(kMaxUrl));
      }
      button["url"] = std::move(url);
    }
    // The colour says what the button does: it comes from the outcome, never the requester.
    if (const std::string style = ChoiceMeaning::Style(c); style != "default") {
      button["style"] = style;
    }
    if (mode_ == Mode::kWebApi && r.risk == "high" && c.outcome == Outcome::kApproved) {
      button["confirm"] = json::object{
          {"title", PlainText("Approve a high-risk action?", kMaxConfirmTitle)},
          {"text",
           MrkdwnObject(Mrkdwn("This approves `" + r.action + "`: " + r.title, kMaxConfirmText))},
          {"confirm", PlainText(ChoiceButtonText(c, kMaxConfirmButton), kMaxConfirmButton)},
          {"deny", PlainText("Cancel", kMaxConfirmButton)},
          {"style", "danger"}};
    }
    buttons.emplace_back(std::move(button));
  }
  // Approving with a standing permission: a press of the approve choice that also grants one
  // of the request's options. The link page offers them to webhook mode's URL buttons.
  const auto approve = mode_ == Mode::kWebApi ? GrantChoiceIndex(r) : std::nullopt;
  if (!approve) return buttons;
  const Choice& c = r.choices[*approve];
  for (const GrantOption& option : r.grant_options) {
    std::string value = json::serialize(json::object{
        {"channel", name_}, {"request", r.id}, {"choice", c.id}, {"grant", option.scope}});
    if (TextLength(value) > kMaxValue) {
      return Error::Invalid("slack button value over " + std::to_string(kMaxValue));
    }
    // A choice id never holds ':', so this action_id is unique in the block.
    buttons.emplace_back(json::object{
        {"type", "button"},
        {"text", PlainText(GrantButtonText(r, option, kMaxButtonText), kMaxButtonText)},
        {"action_id", c.id + ":" + option.scope},
        {"value", std::move(value)},
        {"style", "primary"}});
  }
  return buttons;
}

Result<json::array> SlackChannel::Blocks(const Request& r, std::string_view event,
                                         const std::optional<GrantOption>& granted) const {
  json::array blocks;
  blocks.emplace_back(json::object{{"type", "header"}, {"text", PlainText(r.title, kMaxHeader)}});
  if (event == "request.reminded" && r.pending()) {
    blocks.emplace_back(Context(":bell: Reminder: still waiting for a decision"));
  }

  json::array fields;
  fields.emplace_back(MrkdwnObject("*Action*\n`" + Mrkdwn(r.action, kMaxField - 12) + "`"));
  fields.emplace_back(MrkdwnObject("*Requested by*\n" + Mrkdwn(r.requester, kMaxField - 16)));
  fields.emplace_back(MrkdwnObject("*Deadline*\n" + SlackDate(r.deadline_at)));
  fields.emplace_back(MrkdwnObject(
      "*Risk*\n" + (r.risk == "high" ? std::string(":warning: high") : Mrkdwn(r.risk, 100))));
  if (!r.approvers.empty()) {
    std::string who = JoinText(r.approvers, ", ");
    if (r.quorum > 1) who += " (" + std::to_string(r.quorum) + " needed)";
    fields.emplace_back(MrkdwnObject("*Approvers*\n" + Mrkdwn(who, kMaxField - 13)));
  }
  blocks.emplace_back(json::object{{"type", "section"}, {"fields", std::move(fields)}});

  if (!r.details.empty()) blocks.emplace_back(Section(DetailsText(r.details)));
  if (!r.arguments.empty()) {
    blocks.emplace_back(Section(CodeSection("Arguments", PrettyJson(r.arguments))));
  }
  if (std::string outcome = OutcomeText(r, granted); !outcome.empty()) {
    blocks.emplace_back(Section(std::move(outcome)));
  }

  std::string context = "Request `" + r.id + "` \u00b7 policy `" + Mrkdwn(r.policy, 200) + "`";
  if (r.escalation_level > 0) {
    context += " \u00b7 escalated to level " + std::to_string(r.escalation_level);
  }
  if (r.pending() && r.quorum > 1) {
    int approvals = 0;
    for (const auto& d : r.decisions) approvals += d.outcome == Outcome::kApproved ? 1 : 0;
    context +=
        " \u00b7 " + std::to_string(approvals) + " of " + std::to_string(r.quorum) + " approvals";
  }
  if (r.pending() && mode_ == Mode::kWebApi && r.kind == Kind::kQuestion) {
    context += " \u00b7 answer it with the countersign API or CLI";
  }
  // The request's page, in every state of the message; left out rather than over the limit.
  const std::string inbox = " \u00b7 <" + links_.InboxUrl(r.id) + "|Open in the inbox>";
  if (TextLength(context) + TextLength(inbox) <= kMaxSection) context += inbox;
  blocks.emplace_back(Context(std::move(context)));

  if (r.pending()) {
    auto buttons = Buttons(r);
    if (!buttons.ok()) return std::move(buttons).error();
    if (!buttons->empty()) {
      blocks.emplace_back(json::object{
          {"type", "actions"}, {"block_id", "countersign"}, {"elements", std::move(*buttons)}});
    }
  }
  return blocks;
}

OutboundCall SlackChannel::ApiCall(const std::string& method, const json::object& body) const {
  OutboundCall call;
  call.url = api_base_ + "/" + method;
  call.headers = {{"Content-Type", "application/json; charset=utf-8"},
                  {"Authorization", "Bearer " + bot_token_}};
  call.body = json::serialize(body);
  return call;
}

OutboundCall SlackChannel::WebhookCall(const json::object& body) const {
  OutboundCall call;
  call.url = webhook_url_;
  call.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  call.body = json::serialize(body);
  return call;
}

std::string SlackChannel::RespondText(const json::object& payload, const Request& request) const {
  const std::string text = StringAt(payload, "text");
  const auto* form = payload.if_contains("form");
  if (form == nullptr || !form->is_object() || !request.pending()) {
    return Mrkdwn(text, kMaxMessageText);
  }
  // The press lacked the form: a link of the presser's own to it. Only they see an ephemeral
  // message, and the link decides as them alone.
  const std::string url = links_.Url(request, StringAt(form->get_object(), "choice"),
                                     StringAt(form->get_object(), "principal"));
  const std::string link = "\n*<" + url + "|Open the form>* (a link for you alone)";
  if (TextLength(url) > kMaxUrl) return Mrkdwn(text, kMaxMessageText);
  return Mrkdwn(text, kMaxMessageText - TextLength(link)) + link;
}

Result<OutboundCall> SlackChannel::Render(const OutboxRow& row, const Request& request,
                                          std::string_view message_ref) const {
  if (row.kind == "respond") {
    if (row.target.empty()) return Error::Invalid("a respond row needs a response_url target");
    boost::system::error_code ec;
    json::value payload = json::parse(row.payload, ec);
    if (ec || !payload.is_object()) return Error::Invalid("a respond row needs a JSON payload");
    OutboundCall call;
    call.url = row.target;
    call.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    call.body = json::serialize(json::object{{"response_type", "ephemeral"},
                                             {"replace_original", false},
                                             {"text", RespondText(payload.get_object(), request)}});
    return call;
  }
  if (row.kind != "post" && row.kind != "update" && row.kind != "remind") {
    return Error::Invalid("slack channel '" + name_ + "' cannot deliver a '" + row.kind + "' row");
  }

  const std::optional<GrantOption> granted = GrantedFromPayload(row.payload);
  if (mode_ == Mode::kWebhook) {
    auto blocks = Blocks(request, row.event, granted);
    if (!blocks.ok()) return std::move(blocks).error();
    return WebhookCall({{"text", FallbackText(request)},
                        {"blocks", std::move(*blocks)},
                        {"unfurl_links", false},
                        {"unfurl_media", false}});
  }

  const auto ref = ParseMessageRef(message_ref);
  // A reminder of a request that has meanwhile been resolved only refreshes the message.
  if (row.kind == "remind" && ref && request.pending()) {
    return ApiCall("chat.postMessage", {{"channel", ref->channel},
                                        {"thread_ts", ref->ts},
                                        {"text", ThreadText(request, row.event)},
                                        {"unfurl_links", false},
                                        {"unfurl_media", false}});
  }
  auto blocks = Blocks(request, row.kind == "remind" ? row.event : std::string_view(), granted);
  if (!blocks.ok()) return std::move(blocks).error();
  if (ref && row.kind != "post") {
    return ApiCall("chat.update", {{"channel", ref->channel},
                                   {"ts", ref->ts},
                                   {"text", FallbackText(request)},
                                   {"blocks", std::move(*blocks)}});
  }
  // A post, or an edit of a message that never got posted: post the current state.
  return ApiCall("chat.postMessage", {{"channel", channel_},
                                      {"text", FallbackText(request)},
                                      {"blocks", std::move(*blocks)},
                                      {"unfurl_links", false},
                                      {"unfurl_media", false}});
}

DeliveryOutcome SlackChannel::Interpret(const OutboxRow& row, const OutboundReply& reply) const {
  if (mode_ == Mode::kWebhook || row.kind == "respond" || reply.status == 0 || reply.status < 200 ||
      reply.status >= 300) {
    DeliveryOutcome outcome = InterpretHttpStatus(reply);
    // Incoming webhooks and response_url explain a failure with an error code as the body
    // ("no_service"). The code is kept; any other body is not (OutboundPolicy: a remote body
    // never reaches the outbox or the audit log).
    if (outcome.kind != DeliveryOutcome::Kind::kDelivered && IsErrorCode(reply.body)) {
      outcome.error += ": " + reply.body;
    }
    return outcome;
  }
  boost::system::error_code ec;
  json::value body = json::parse(reply.body, ec);
  if (ec || !body.is_object()) {
    return DeliveryOutcome::Failed("slack answered HTTP " + std::to_string(reply.status) +
                                   " without a JSON body");
  }
  const json::object& o = body.get_object();
  const auto* ok = o.if_contains("ok");
  if (!ok || !ok->is_bool() || !ok->get_bool()) {
    std::string error = StringAt(o, "error");
    if (error.empty()) error = "unknown_error";
    for (auto transient : kTransientErrors) {
      if (error == transient) {
        return DeliveryOutcome::Retry("slack: " + error,
                                      ParseRetryAfter(reply.Header("retry-after")));
      }
    }
    return DeliveryOutcome::Failed("slack: " + error);
  }
  if (row.kind == "remind") return DeliveryOutcome::Delivered();
  const std::string channel = StringAt(o, "channel");
  const std::string ts = StringAt(o, "ts");
  if (channel.empty() || ts.empty()) return DeliveryOutcome::Delivered();
  return DeliveryOutcome::Delivered(
      json::serialize(json::object{{"channel", channel}, {"ts", ts}}));
}

Result<ChannelCallback> SlackChannel::ParseCallback(const InboundCallback& callback,
                                                    TimePoint now) const {
  if (!verifier_) return Error::Unauthorized("slack channel '" + name_ + "' has no signing_secret");
  CS_RETURN_IF_ERROR(verifier_->Verify(Header(callback, "x-slack-request-timestamp"),
                                       Header(callback, "x-slack-signature"), callback.body, now));

  // Verified: from here on the body is Slack's own.
  auto payload_text = FormField(callback.body, "payload");
  if (!payload_text) return Error::Invalid("not an interactivity payload");
  return ParseInteraction(*payload_text);
}

Status SlackChannel::VerifyRequest(const InboundCallback& request, TimePoint now) const {
  if (!verifier_) return Error::Unauthorized("slack channel '" + name_ + "' has no signing_secret");
  return verifier_->Verify(Header(request, "x-slack-request-timestamp"),
                           Header(request, "x-slack-signature"), request.body, now);
}

Result<ChannelCallback> SlackChannel::ParseInteraction(std::string_view payload_text) const {
  boost::system::error_code ec;
  json::value payload = json::parse(payload_text, ec);
  if (ec || !payload.is_object()) return Error::Malformed("the payload is not a JSON object");
  if (auto twice = FindDuplicateKey(payload_text)) {
    return Error::Malformed("the payload names the key \"" + *twice + "\" twice");
  }
  const json::object& p = payload.get_object();
  const std::string type = StringAt(p, "type");
  if (type != "block_actions") return Error::Invalid("unsupported interaction '" + type + "'");
  const json::object* user = ObjectAt(p, "user");
  const auto* actions = p.if_contains("actions");
  if (!user || !actions || !actions->is_array() || actions->get_array().empty() ||
      !actions->get_array()[0].is_object()) {
    return Error::Invalid("block_actions without a user or an action");
  }
  const std::string user_id = StringAt(*user, "id");
  if (!IsSlackId(user_id)) return Error::Invalid("block_actions with a malformed user id");
  const std::string value_text = StringAt(actions->get_array()[0].get_object(), "value");
  if (value_text.empty()) return Error::Invalid("not a countersign button");
  json::value value = json::parse(value_text, ec);
  if (ec || !value.is_object() || FindDuplicateKey(value_text)) {
    return Error::Invalid("not a countersign button");
  }
  ChannelCallback out;
  const std::string channel = StringAt(value.get_object(), "channel");
  out.request_id = StringAt(value.get_object(), "request");
  out.choice = StringAt(value.get_object(), "choice");
  if (channel.empty() || !IsWellFormedId(out.request_id, "req_") || !IsChoiceId(out.choice)) {
    return Error::Invalid("not a countersign button");
  }
  if (const auto* grant = value.get_object().if_contains("grant")) {
    // Only a scope: its duration is the request's own option, looked up on receipt.
    if (!grant->is_string() ||
        (grant->get_string() != "session" && grant->get_string() != "requester")) {
      return Error::Invalid("not a countersign button");
    }
    out.grant_scope = std::string(grant->get_string());
  }
  if (channel != name_) return Error::NotFound("a button of channel '" + channel + "'");
  out.identity = "slack:" + user_id;
  out.display_name = StringAt(*user, "username");
  if (out.display_name.empty()) out.display_name = StringAt(*user, "name");
  if (out.display_name.empty()) out.display_name = user_id;
  out.response_url = StringAt(p, "response_url");
  return out;
}

}  // namespace countersign
