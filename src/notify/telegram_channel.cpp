#include "notify/telegram_channel.hpp"

#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/ascii.hpp"
#include "core/choice_meaning.hpp"
#include "core/json_duplicate_keys.hpp"
#include "core/sha256.hpp"
#include "notify/button_key.hpp"
#include "notify/chat_text.hpp"
#include "notify/grant_buttons.hpp"
#include "notify/request_text.hpp"
#include "web/pretty_json.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

// What each part of the message may take, in characters before escaping. Together with the
// fixed labels they stay under TelegramChannel::kMaxText (Telegram counts the text after the
// HTML entities are parsed, so escaping adds nothing to the count).
constexpr size_t kMaxTitle = 256;
constexpr size_t kMaxHeadline = 200;
constexpr size_t kMaxShort = 128;  // action, requester, risk, policy
constexpr size_t kMaxApprovers = 200;
constexpr size_t kMaxDetails = 550;
constexpr size_t kMaxArguments = 1300;
constexpr size_t kMaxDecisions = 550;
// Labels, line breaks, the deadline and the footer's own words, generously.
constexpr size_t kFixedText = 400;
static_assert(kMaxTitle + kMaxHeadline + 4 * kMaxShort + kMaxApprovers + kMaxDetails +
                      kMaxArguments + kMaxDecisions + kFixedText <=
                  TelegramChannel::kMaxText,
              "a message must fit in Telegram's 4096 characters");
constexpr size_t kMaxSecretToken = 256;
constexpr size_t kButtonsPerRow = 3;

// Telegram's HTML mode needs only these escaped (and '"' inside attributes, which we never
// write).
std::string EscapeHtml(std::string_view raw) {
  const std::string text = ShowBidiControls(raw);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// User text cut to `max` characters, then escaped: a cut never splits an entity.
std::string Html(std::string_view raw, size_t max) { return EscapeHtml(TruncateText(raw, max)); }

std::string DetailsText(const json::object& details) {
  std::string raw;
  for (const auto& [key, value] : details) {
    if (!raw.empty()) raw += "\n";
    raw += std::string(key) + ": " +
           (value.is_string() ? std::string(value.get_string()) : json::serialize(value));
  }
  return raw;
}

std::string DecisionsText(const Request& r) {
  std::string raw;
  for (const auto& d : r.decisions) {
    if (!raw.empty()) raw += "\n";
    raw += "\u2022 " + d.principal + ": " + DecisionText(r, d);
    if (!d.comment.empty()) raw += " \u2014 \u201c" + d.comment + "\u201d";
  }
  return raw;
}

// `url` for an href="..." of Telegram's HTML.
std::string HtmlAttribute(std::string_view url) {
  std::string out;
  for (char c : EscapeHtml(url)) {
    if (c == '"') {
      out += "&quot;";
    } else {
      out += c;
    }
  }
  return out;
}

// The whole message for `r` as it stands now; `inbox_url`, when not empty, is linked under the
// footer (in the text, not as a button: Telegram refuses a url button to a host such as
// localhost, and would refuse the whole message with it, while a link in the text it cannot
// use merely stays plain text).
// `granted`: what the approval granted, said after the headline.
std::string MessageText(const Request& r, std::string_view event, std::string_view inbox_url,
                        const std::optional<GrantOption>& granted) {
  std::string text = StatusIcon(r.status);
  text += "<b>" + Html(HeadlineWithGrant(r, event, granted), kMaxHeadline) + "</b>\n";
  text += "<b>" + Html(r.title, kMaxTitle) + "</b>\n\n";
  text += "Action: <code>" + Html(r.action, kMaxShort) + "</code>\n";
  text += "Requested by: " + Html(r.requester, kMaxShort) + "\n";
  text += "Deadline: " + UtcMinutes(r.deadline_at) + "\n";
  text +=
      "Risk: " + (r.risk == "high" ? std::string("\u26a0\ufe0f high") : Html(r.risk, kMaxShort));
  if (!r.approvers.empty()) {
    std::string who = JoinText(r.approvers, ", ");
    if (r.quorum > 1) who += " (" + std::to_string(r.quorum) + " needed)";
    text += "\nApprovers: " + Html(who, kMaxApprovers);
  }
  if (!r.details.empty()) {
    text += "\n\n<b>Details</b>\n" + Html(DetailsText(r.details), kMaxDetails);
  }
  if (!r.arguments.empty()) {
    text += "\n\n<b>Arguments</b>\n<pre>" + Html(PrettyJson(r.arguments), kMaxArguments) + "</pre>";
  }
  if (!r.decisions.empty()) {
    text += "\n\n<b>Decisions</b>\n" + Html(DecisionsText(r), kMaxDecisions);
  }
  std::string footer = "Request " + r.id + " \u00b7 policy " + TruncateText(r.policy, kMaxShort);
  if (r.escalation_level > 0) {
    footer += " \u00b7 escalated to level " + std::to_string(r.escalation_level);
  }
  if (r.pending() && r.quorum > 1) {
    footer += " \u00b7 " + std::to_string(Approvals(r)) + " of " + std::to_string(r.quorum) +
              " approvals";
  }
  if (r.pending() && r.kind == Kind::kQuestion) {
    footer += " \u00b7 answer it with the countersign API or CLI";
  }
  text += "\n\n<i>" + EscapeHtml(footer) + "</i>";
  if (!inbox_url.empty()) {
    text += "\n<a href=\"" + HtmlAttribute(inbox_url) + "\">Open in the inbox</a>";
  }
  return text;
}

// The short reply that nudges people (reminders, escalations).
std::string ReminderText(const Request& r, std::string_view event) {
  std::string text;
  if (event == "request.escalated") {
    text = "\u2b06\ufe0f Escalated to level " + std::to_string(r.escalation_level);
    if (!r.approvers.empty()) {
      text += ": now waiting for " + Html(JoinText(r.approvers, ", "), kMaxApprovers);
    }
  } else {
    text = "\U0001f514 Reminder: <b>" + Html(r.title, kMaxTitle) +
           "</b> is still waiting for a decision";
  }
  return text + " (deadline " + UtcMinutes(r.deadline_at) + ").";
}

// The answer to a press that was recorded (`granted`: what its approval granted).
std::string RecordedText(const Request& r, const std::string& choice,
                         const std::optional<GrantOption>& granted) {
  const Choice* c = r.FindChoice(choice);
  std::string text = "Recorded: " + (c ? ChoiceMeaning::Caption(*c) : choice) + ".";
  if (!r.pending()) {
    text += " " + HeadlineWithGrant(r, "", granted) + ".";
  } else if (r.quorum > 1) {
    text += " " + std::to_string(Approvals(r)) + " of " + std::to_string(r.quorum) + " approvals.";
  }
  return text;
}

struct MessageRef {
  json::value chat_id;
  int64_t message_id = 0;
};

std::optional<int64_t> Int64At(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
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

std::optional<MessageRef> ParseMessageRef(std::string_view text) {
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* chat = v.get_object().if_contains("chat_id");
  const auto message = Int64At(v.get_object(), "message_id");
  if (!chat || !message || !(chat->is_int64() || chat->is_string())) return std::nullopt;
  return MessageRef{*chat, *message};
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsTokenChar(char c, std::string_view extra) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string_view::npos;
}

bool AllTokenChars(std::string_view s, std::string_view extra) {
  for (char c : s) {
    if (!IsTokenChar(c, extra)) return false;
  }
  return !s.empty();
}

std::string Header(const InboundCallback& callback, const std::string& lower_name) {
  auto it = callback.headers.find(lower_name);
  return it == callback.headers.end() ? std::string() : it->second;
}

json::object NoPreview() { return {{"is_disabled", true}}; }

}  // namespace

Result<std::unique_ptr<TelegramChannel>> TelegramChannel::Create(ChannelSettings settings,
                                                                 const LinkBuilder* links) {
  std::unique_ptr<TelegramChannel> c(new TelegramChannel(settings.name, links));
  const std::string where = settings.source + ": channel '" + settings.name + "' (telegram)";
  auto bot_token = settings.TakeRequired("bot_token");
  if (!bot_token.ok()) return std::move(bot_token).error();
  // It goes into the URL path: "123456789:AA...".
  if (!AllTokenChars(*bot_token, ":_-") || bot_token->find(':') == std::string::npos) {
    return Error::Invalid(settings.At("bot_token") +
                          ": bot_token must look like 123456789:AAH... (from @BotFather)");
  }
  c->bot_token_ = std::move(bot_token).value();

  auto chat_id = settings.TakeRequired("chat_id");
  if (!chat_id.ok()) return std::move(chat_id).error();
  c->chat_id_ = std::move(chat_id).value();
  c->numeric_chat_id_ = ParseInt64(c->chat_id_);
  if (!c->numeric_chat_id_ && !(c->chat_id_.size() > 1 && c->chat_id_[0] == '@' &&
                                AllTokenChars(std::string_view(c->chat_id_).substr(1), "_"))) {
    return Error::Invalid(settings.At("chat_id") +
                          ": chat_id must be a numeric chat id or @channelusername");
  }

  auto secret = settings.Take("secret_token");
  if (!secret || secret->empty()) {
    return Error::Invalid(where +
                          " needs secret_token: its buttons call back to /hooks/telegram, which "
                          "checks it");
  }
  if (secret->size() > kMaxSecretToken || !AllTokenChars(*secret, "_-")) {
    return Error::Invalid(settings.At("secret_token") +
                          ": secret_token must be 1-256 of A-Z, a-z, 0-9, _ and -");
  }
  c->secret_token_ = std::move(*secret);

  auto api_base = settings.TakeApiBase(c->api_base_);
  if (!api_base.ok()) return std::move(api_base).error();
  c->api_base_ = std::move(api_base).value();
  CS_RETURN_IF_ERROR(settings.RejectUnknown());
  return c;
}

std::vector<std::string> TelegramChannel::KindsFor(std::string_view event_type) const {
  return EditInPlaceKinds(event_type);
}

json::value TelegramChannel::ChatId() const {
  if (numeric_chat_id_) return *numeric_chat_id_;
  return json::string(chat_id_);
}

bool TelegramChannel::IsThisChat(const json::object& chat) const {
  if (numeric_chat_id_) return Int64At(chat, "id") == numeric_chat_id_;
  return AsciiLower(StringAt(chat, "username")) == AsciiLower(std::string_view(chat_id_).substr(1));
}

OutboundCall TelegramChannel::ApiCall(const std::string& method, const json::object& body) const {
  OutboundCall call;
  call.url = api_base_ + "/bot" + bot_token_ + "/" + method;
  call.headers = {{"Content-Type", "application/json"}};
  call.body = json::serialize(body);
  return call;
}

std::string TelegramChannel::CallbackTarget(std::string_view callback_query_id) {
  return std::string(kCallbackTargetPrefix) + std::string(callback_query_id);
}

json::object TelegramChannel::WebhookAnswer(std::string_view callback_query_id,
                                            std::string_view text) {
  json::object answer{{"method", "answerCallbackQuery"}, {"callback_query_id", callback_query_id}};
  if (!text.empty()) answer["text"] = TruncateText(text, kMaxAnswer);
  return answer;
}

OutboundCall TelegramChannel::SetWebhookCall(const std::string& url) const {
  return ApiCall("setWebhook", {{"url", url},
                                {"secret_token", secret_token_},
                                {"allowed_updates", json::array{"callback_query"}}});
}

Result<OutboundCall> TelegramChannel::FormMessage(const json::object& form,
                                                  const Request& request) const {
  const std::string identity = StringAt(form, "identity");
  constexpr std::string_view kUserPrefix = "telegram:";
  const std::string_view user = std::string_view(identity).substr(
      identity.starts_with(kUserPrefix) ? kUserPrefix.size() : identity.size());
  if (user.empty() || user.find_first_not_of("0123456789") != std::string_view::npos) {
    return Error::Invalid("the form offer names no Telegram user");
  }
  const std::string url =
      links_->Url(request, StringAt(form, "choice"), StringAt(form, "principal"));
  const std::string text = "<b>" + Html(request.title, 256) +
                           "</b> asks for a form to be filled in before you decide. The button "
                           "opens it; the link is yours alone and decides as you.";
  json::object button{{"text", "Open the form"}, {"url", url}};
  return ApiCall(
      "sendMessage",
      {{"chat_id", std::string(user)},
       {"text", text},
       {"parse_mode", "HTML"},
       {"link_preview_options", NoPreview()},
       {"reply_markup", json::object{{"inline_keyboard", json::array{json::array{button}}}}}});
}

Result<OutboundCall> TelegramChannel::Render(const OutboxRow& row, const Request& request,
                                             std::string_view message_ref) const {
  if (row.kind == "respond") {
    if (!row.target.starts_with(kCallbackTargetPrefix) ||
        row.target.size() == kCallbackTargetPrefix.size()) {
      return Error::Invalid("a telegram respond row needs a callback query target");
    }
    boost::system::error_code ec;
    json::value payload = json::parse(row.payload, ec);
    if (ec || !payload.is_object()) return Error::Invalid("a respond row needs a JSON payload");
    const auto* form = payload.get_object().if_contains("form");
    if (form != nullptr && form->is_object() && links_ != nullptr && request.pending()) {
      auto message = FormMessage(form->get_object(), request);
      if (message.ok()) return message;
    }
    std::string text = StringAt(payload.get_object(), "text");
    if (text.empty()) {
      text = RecordedText(request, StringAt(payload.get_object(), "choice"),
                          GrantedFromPayload(row.payload));
    }
    return ApiCall("answerCallbackQuery",
                   {{"callback_query_id", row.target.substr(kCallbackTargetPrefix.size())},
                    {"text", TruncateText(text, kMaxAnswer)}});
  }
  if (row.kind != "post" && row.kind != "update" && row.kind != "remind") {
    return Error::Invalid("telegram channel '" + name_ + "' cannot deliver a '" + row.kind +
                          "' row");
  }

  const auto ref = ParseMessageRef(message_ref);
  // A reminder of a request that has meanwhile been resolved only refreshes the message.
  if (row.kind == "remind" && ref && request.pending()) {
    return ApiCall("sendMessage",
                   {{"chat_id", ref->chat_id},
                    {"text", ReminderText(request, row.event)},
                    {"parse_mode", "HTML"},
                    {"link_preview_options", NoPreview()},
                    {"reply_parameters", json::object{{"message_id", ref->message_id},
                                                      {"allow_sending_without_reply", true}}}});
  }

  json::array keyboard;
  // A question needs typed text, which a button cannot carry.
  if (request.pending() && request.kind != Kind::kQuestion) {
    json::array buttons;
    for (size_t i = 0; i < request.choices.size(); ++i) {
      std::string data = ButtonKey::Encode(request.id, i);
      if (data.size() > kMaxCallbackData) {
        return Error::Invalid("telegram callback_data over " + std::to_string(kMaxCallbackData) +
                              " bytes");
      }
      buttons.emplace_back(
          json::object{{"text", ChoiceButtonText(request.choices[i], kMaxButtonText)},
                       {"callback_data", std::move(data)}});
      if (buttons.size() == kButtonsPerRow) {
        keyboard.emplace_back(std::move(buttons));
        buttons = json::array();
      }
    }
    if (!buttons.empty()) keyboard.emplace_back(std::move(buttons));
    // Approving with a standing permission, a row each (their labels are long).
    if (const auto approve = GrantChoiceIndex(request)) {
      for (const GrantOption& option : request.grant_options) {
        std::string data = ButtonKey::Encode(request.id, *approve, option.scope);
        if (data.size() > kMaxCallbackData) {
          return Error::Invalid("telegram callback_data over " + std::to_string(kMaxCallbackData) +
                                " bytes");
        }
        keyboard.emplace_back(
            json::array{json::object{{"text", GrantButtonText(request, option, kMaxButtonText)},
                                     {"callback_data", std::move(data)}}});
      }
    }
  }
  std::string text =
      MessageText(request, row.event, links_ != nullptr ? links_->InboxUrl(request.id) : "",
                  GrantedFromPayload(row.payload));

  if (ref && row.kind != "post") {
    // An empty keyboard removes the buttons.
    return ApiCall("editMessageText",
                   {{"chat_id", ref->chat_id},
                    {"message_id", ref->message_id},
                    {"text", std::move(text)},
                    {"parse_mode", "HTML"},
                    {"link_preview_options", NoPreview()},
                    {"reply_markup", json::object{{"inline_keyboard", std::move(keyboard)}}}});
  }
  // A post, or an edit of a message that never got posted: post the current state.
  json::object body{{"chat_id", ChatId()},
                    {"text", std::move(text)},
                    {"parse_mode", "HTML"},
                    {"link_preview_options", NoPreview()}};
  if (!keyboard.empty()) body["reply_markup"] = json::object{{"inline_keyboard", keyboard}};
  return ApiCall("sendMessage", body);
}

DeliveryOutcome TelegramChannel::Interpret(const OutboxRow& row, const OutboundReply& reply) const {
  if (reply.status == 0) return InterpretHttpStatus(reply);
  boost::system::error_code ec;
  json::value body = json::parse(reply.body, ec);
  if (ec || !body.is_object()) {
    DeliveryOutcome outcome = InterpretHttpStatus(reply);
    if (outcome.kind == DeliveryOutcome::Kind::kDelivered) {
      return DeliveryOutcome::Failed("telegram answered HTTP " + std::to_string(reply.status) +
                                     " without a JSON body");
    }
    return outcome;
  }
  const json::object& o = body.get_object();
  const auto* ok = o.if_contains("ok");
  if (ok && ok->is_bool() && ok->get_bool()) {
    if (row.kind != "post" && row.kind != "update") return DeliveryOutcome::Delivered();
    const json::object* message = ObjectAt(o, "result");
    const json::object* chat = message ? ObjectAt(*message, "chat") : nullptr;
    const auto message_id = message ? Int64At(*message, "message_id") : std::nullopt;
    const auto chat_id = chat ? Int64At(*chat, "id") : std::nullopt;
    if (!message_id || !chat_id) return DeliveryOutcome::Delivered();
    return DeliveryOutcome::Delivered(
        json::serialize(json::object{{"chat_id", *chat_id}, {"message_id", *message_id}}));
  }

  const int64_t code = Int64At(o, "error_code").value_or(reply.status);
  const std::string why = "telegram: " + std::to_string(code) + " " + StringAt(o, "description");
  if (code == 429 || reply.status == 429) {
    std::optional<std::chrono::seconds> after = ParseRetryAfter(reply.Header("retry-after"));
    if (const json::object* parameters = ObjectAt(o, "parameters")) {
      if (auto seconds = Int64At(*parameters, "retry_after"); seconds && *seconds >= 0) {
        after = std::chrono::seconds(std::min<int64_t>(*seconds, 24 * 3600));
      }
    }
    return DeliveryOutcome::Retry(why, after);
  }
  if (code >= 500 || reply.status >= 500) return DeliveryOutcome::Retry(why);
  // An edit that would change nothing (the same state edited twice) has done its job.
  if (row.kind == "update" &&
      StringAt(o, "description").find("message is not modified") != std::string::npos) {
    return DeliveryOutcome::Delivered();
  }
  return DeliveryOutcome::Failed(why);
}

Result<TelegramCallbackQuery> TelegramChannel::ReadUpdate(const InboundCallback& callback,
                                                          TimePoint now) const {
  const std::string token = Header(callback, "x-telegram-bot-api-secret-token");
  if (token.empty() || !ConstantTimeEquals(token, secret_token_)) {
    return Error::Unauthorized("X-Telegram-Bot-Api-Secret-Token does not match");
  }
  // Verified: from here on the body is Telegram's own.
  boost::system::error_code ec;
  json::value update = json::parse(callback.body, ec);
  if (ec || !update.is_object()) return Error::Malformed("the update is not a JSON object");
  if (auto twice = FindDuplicateKey(callback.body)) {
    return Error::Malformed("the update names the key \"" + *twice + "\" twice");
  }
  if (const auto update_id = Int64At(update.get_object(), "update_id")) {
    const int64_t now_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    CS_RETURN_IF_ERROR(updates_.Admit(std::to_string(*update_id), now_seconds, now_seconds));
  }
  const json::object* query = ObjectAt(update.get_object(), "callback_query");
  if (!query) return Error::Invalid("not a callback query");
  TelegramCallbackQuery out;
  out.id = StringAt(*query, "id");
  const json::object* from = ObjectAt(*query, "from");
  const auto user_id = from ? Int64At(*from, "id") : std::nullopt;
  if (out.id.empty() || !user_id) return Error::Malformed("a callback query without an id or user");
  const json::object* message = ObjectAt(*query, "message");
  const json::object* chat = message ? ObjectAt(*message, "chat") : nullptr;
  out.in_chat = chat && IsThisChat(*chat);

  auto key = ButtonKey::Parse(StringAt(*query, "data"));
  if (!key) return out;
  ChannelCallback press;
  press.identity = "telegram:" + std::to_string(*user_id);
  const std::string username = StringAt(*from, "username");
  press.display_name = username.empty() ? StringAt(*from, "first_name") : "@" + username;
  if (press.display_name.empty()) press.display_name = std::to_string(*user_id);
  press.request_id = std::move(key->request_id);
  press.choice_index = key->choice_index;
  press.grant_scope = std::move(key->grant_scope);
  press.response_url = CallbackTarget(out.id);
  out.press = std::move(press);
  return out;
}

Result<ChannelCallback> TelegramChannel::ParseCallback(const InboundCallback& callback,
                                                       TimePoint now) const {
  auto query = ReadUpdate(callback, now);
  if (!query.ok()) return std::move(query).error();
  if (!query->press) return Error::Invalid("not a countersign button");
  if (!query->in_chat) return Error::NotFound("a button in another chat");
  return std::move(*query->press);
}

}  // namespace countersign
