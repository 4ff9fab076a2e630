#include "notify/discord_channel.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/choice_meaning.hpp"
#include "core/json_duplicate_keys.hpp"
#include "notify/button_key.hpp"
#include "notify/chat_text.hpp"
#include "notify/grant_buttons.hpp"
#include "notify/request_text.hpp"
#include "web/pretty_json.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

// Parts of the embed, in characters before escaping; with the fixed names they stay well
// under Discord's 6000 characters for a whole embed.
constexpr size_t kMaxShort = 128;
constexpr size_t kMaxHeadline = 300;
constexpr size_t kMaxApprovers = 300;
constexpr size_t kMaxFooterText = 300;
constexpr size_t kMaxSnowflake = 20;
constexpr char kUserAgent[] = "DiscordBot (countersign, 0.1.0)";

// Discord colours: blurple while pending, green, red, grey.
int64_t Color(RequestStatus status) {
  switch (status) {
    case RequestStatus::kPending:
      return 0x5865F2;
    case RequestStatus::kApproved:
    case RequestStatus::kAnswered:
      return 0x57F287;
    case RequestStatus::kDenied:
      return 0xED4245;
    case RequestStatus::kExpired:
    case RequestStatus::kCancelled:
    case RequestStatus::kDismissed:
    case RequestStatus::kEnded:
      return 0x95A5A6;
  }
  return 0x95A5A6;
}

// Markdown made inert: a backslash before every character that can start markup anywhere in a
// line (emphasis, code, spoilers, quotes, masked links, mentions and timestamps), and before
// those that start a heading or a list at the beginning of a line. Discord hides the
// backslashes.
std::string EscapeMarkdown(std::string_view raw) {
  const std::string text = ShowBidiControls(raw);
  std::string out;
  out.reserve(text.size());
  bool line_start = true;
  for (char c : text) {
    const bool anywhere = c == '\\' || c == '*' || c == '_' || c == '~' || c == '`' || c == '|' ||
                          c == '<' || c == '>' || c == '[' || c == ']';
    const bool at_start = line_start && (c == '#' || c == '-' || c == '+');
    if (anywhere || at_start) out += '\\';
    out += c;
    if (c == '\n') {
      line_start = true;
    } else if (c != ' ') {
      line_start = false;
    }
  }
  return out;
}

// User text escaped, within `max` characters.
std::string Markdown(std::string_view raw, size_t max) {
  return TruncateEscaped(raw, max, EscapeMarkdown);
}

// A triple backtick in the arguments would end the code block early.
std::string DefuseCodeFence(std::string text) {
  for (size_t at = text.find("```"); at != std::string::npos; at = text.find("```", at)) {
    text.replace(at, 3, "`\u200b`\u200b`");
  }
  return text;
}

// "<t:UNIX:f>": Discord shows it in each reader's own time zone.
std::string DiscordTime(TimePoint t) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  return "<t:" + std::to_string(seconds.count()) + ":f>";
}

json::object Field(std::string name, std::string value, bool inline_field) {
  return {{"name", std::move(name)}, {"value", std::move(value)}, {"inline", inline_field}};
}

// "✅ **Approved by alice**".
std::string Headline(const Request& r, std::string_view event,
                     const std::optional<GrantOption>& granted) {
  return std::string(StatusIcon(r.status)) + "**" +
         Markdown(HeadlineWithGrant(r, event, granted), kMaxHeadline) + "**";
}

json::object Embed(const Request& r, std::string_view event,
                   const std::optional<GrantOption>& granted) {
  json::array fields;
  fields.emplace_back(Field("Action", "`" + TruncateText(r.action, kMaxShort) + "`", true));
  fields.emplace_back(Field("Requested by", Markdown(r.requester, kMaxShort), true));
  fields.emplace_back(Field("Deadline", DiscordTime(r.deadline_at), true));
  fields.emplace_back(Field(
      "Risk", r.risk == "high" ? std::string("\u26a0\ufe0f high") : Markdown(r.risk, kMaxShort),
      true));
  if (!r.approvers.empty()) {
    std::string who = JoinText(r.approvers, ", ");
    if (r.quorum > 1) who += " (" + std::to_string(r.quorum) + " needed)";
    fields.emplace_back(Field("Approvers", Markdown(who, kMaxApprovers), true));
  }
  if (!r.details.empty()) {
    std::string raw;
    for (const auto& [key, value] : r.details) {
      if (!raw.empty()) raw += "\n";
      raw += std::string(key) + ": " +
             (value.is_string() ? std::string(value.get_string()) : json::serialize(value));
    }
    fields.emplace_back(Field("Details", Markdown(raw, DiscordChannel::kMaxFieldValue), false));
  }
  if (!r.arguments.empty()) {
    const std::string head = "```json\n";
    const std::string tail = "\n```";
    const size_t budget = DiscordChannel::kMaxFieldValue - head.size() - tail.size();
    fields.emplace_back(
        Field("Arguments",
              head + TruncateText(DefuseCodeFence(PrettyJson(r.arguments)), budget) + tail, false));
  }
  if (!r.decisions.empty()) {
    std::string lines;
    for (const auto& d : r.decisions) {
      std::string line = "\u2022 " + d.principal + ": " + DecisionText(r, d);
      if (!d.comment.empty()) line += " \u2014 \u201c" + d.comment + "\u201d";
      if (!lines.empty()) lines += "\n";
      lines += line;
    }
    fields.emplace_back(Field("Decisions", Markdown(lines, DiscordChannel::kMaxFieldValue), false));
  }

  // The footer is plain text: no markdown, so nothing to escape.
  std::string footer = "Request " + r.id + " \u00b7 policy " + TruncateText(r.policy, kMaxShort);
  if (r.escalation_level > 0) {
    footer += " \u00b7 escalated to level " + std::to_string(r.escalation_level);
  }
  if (r.pending() && r.quorum > 1) {
    footer += " \u00b7 " + std::to_string(Approvals(r)) + " of " + std::to_string(r.quorum) +
              " approvals";
  }
  return {{"title", Markdown(r.title, DiscordChannel::kMaxTitle)},
          {"description", Headline(r, event, granted)},
          {"color", Color(r.status)},
          {"fields", std::move(fields)},
          {"footer", json::object{{"text", TruncateText(footer, kMaxFooterText)}}}};
}

// The notification line above the embed (and the whole of a push notification).
std::string Content(const Request& r, std::string_view event,
                    const std::optional<GrantOption>& granted) {
  return Markdown(HeadlineWithGrant(r, event, granted) + ": " + r.title,
                  DiscordChannel::kMaxContent);
}

std::string ReminderContent(const Request& r, std::string_view event) {
  std::string text;
  if (event == "request.escalated") {
    text = "\u2b06\ufe0f Escalated to level " + std::to_string(r.escalation_level);
    if (!r.approvers.empty()) {
      text += ": now waiting for " + Markdown(JoinText(r.approvers, ", "), kMaxApprovers);
    }
  } else {
    text = "\U0001f514 Reminder: **" + Markdown(r.title, DiscordChannel::kMaxTitle) +
           "** is still waiting for a decision";
  }
  return text + " (deadline " + DiscordTime(r.deadline_at) + ").";
}

json::object NoMentions() { return {{"parse", json::array()}}; }

struct MessageRef {
  std::string channel_id;
  std::string message_id;
};

bool IsSnowflake(std::string_view s) {
  if (s.empty() || s.size() > kMaxSnowflake) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
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
  MessageRef ref{StringAt(v.get_object(), "channel_id"), StringAt(v.get_object(), "message_id")};
  if (!IsSnowflake(ref.message_id) || !(ref.channel_id.empty() || IsSnowflake(ref.channel_id))) {
    return std::nullopt;
  }
  return ref;
}

std::string Header(const InboundCallback& callback, const std::string& lower_name) {
  auto it = callback.headers.find(lower_name);
  return it == callback.headers.end() ? std::string() : it->second;
}

bool IsHttpUrl(std::string_view url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

}  // namespace

DiscordChannel::DiscordChannel(std::string name, const LinkBuilder& links)
    : name_(std::move(name)), links_(links) {}

Result<std::unique_ptr<DiscordChannel>> DiscordChannel::Create(ChannelSettings settings,
                                                               const LinkBuilder& links) {
  std::unique_ptr<DiscordChannel> c(new DiscordChannel(settings.name, links));
  const std::string where = settings.source + ": channel '" + settings.name + "' (discord)";
  auto webhook_url = settings.Take("webhook_url");
  auto bot_token = settings.Take("bot_token");
  if (webhook_url && bot_token) {
    return Error::Invalid(where + " takes webhook_url or bot_token, not both");
  }
  if (!webhook_url && !bot_token) {
    return Error::Invalid(where + " needs webhook_url (webhook) or bot_token (application)");
  }
  if (webhook_url) {
    c->mode_ = Mode::kWebhook;
    if (!IsHttpUrl(*webhook_url)) {
      return Error::Invalid(settings.At("webhook_url") +
                            ": webhook_url must be an http or https URL");
    }
    c->webhook_url_ = std::move(*webhook_url);
    c->principal_ = settings.Take("principal").value_or("channel:" + settings.name);
    if (c->principal_.empty())
      return Error::Invalid(settings.At("principal") + " has an empty principal");
  } else {
    c->mode_ = Mode::kApplication;
    if (bot_token->empty())
      return Error::Invalid(settings.At("bot_token") + " has an empty bot_token");
    c->bot_token_ = std::move(*bot_token);
    auto channel_id = settings.TakeRequired("channel_id");
    if (!channel_id.ok()) return std::move(channel_id).error();
    if (!IsSnowflake(*channel_id)) {
      return Error::Invalid(settings.At("channel_id") +
                            ": channel_id must be a channel's numeric id");
    }
    c->channel_id_ = std::move(channel_id).value();
    auto public_key = settings.Take("public_key");
    if (!public_key || public_key->empty()) {
      return Error::Invalid(where +
                            " needs public_key: its buttons call back to /hooks/discord, "
                            "which verifies them with it");
    }
    auto verifier = DiscordVerifier::Create(*public_key);
    if (!verifier.ok())
      return Error::Invalid(settings.At("public_key") +
                            ": public_key: " + verifier.error().message);
    c->verifier_ = std::move(verifier).value();
    auto api_base = settings.TakeApiBase(c->api_base_);
    if (!api_base.ok()) return std::move(api_base).error();
    c->api_base_ = std::move(api_base).value();
  }
  CS_RETURN_IF_ERROR(settings.RejectUnknown());
  return c;
}

std::vector<std::string> DiscordChannel::KindsFor(std::string_view event_type) const {
  return EditInPlaceKinds(event_type);
}

Result<json::array> DiscordChannel::Components(const Request& r) const {
  json::array rows;
  json::array row;
  // Buttons fill rows of kButtonsPerRow.
  const auto add = [&](json::object button) {
    if (row.size() == kButtonsPerRow) {
      rows.emplace_back(json::object{{"type", 1}, {"components", std::move(row)}});
      row = json::array();
    }
    row.emplace_back(std::move(button));
  };
  // The request's page in the web inbox is the last button, in every state of the message;
  // left out rather than over the limit.
  const auto finish = [&] {
    if (std::string url = links_.InboxUrl(r.id); TextLength(url) <= kMaxUrl) {
      add(json::object{
          {"type", 2}, {"style", 5}, {"label", "Open in the inbox"}, {"url", std::move(url)}});
    }
    if (!row.empty()) rows.emplace_back(json::object{{"type", 1}, {"components", std::move(row)}});
    return std::move(rows);
  };
  if (!r.pending()) return finish();
  // A question needs typed text, which an interactive button cannot carry; a link can (its
  // page asks for the answer).
  if (mode_ == Mode::kApplication && r.kind == Kind::kQuestion) return finish();
  for (size_t i = 0; i < r.choices.size(); ++i) {
    const Choice& c = r.choices[i];
    json::object button{{"type", 2}, {"label", ChoiceButtonText(c, kMaxLabel)}};
    if (mode_ == Mode::kWebhook) {
      std::string url = links_.Url(r, c.id, principal_);
      if (TextLength(url) > kMaxUrl) {
        return Error::Invalid("discord link button url over " + std::to_string(kMaxUrl));
      }
      button["style"] = 5;
      button["url"] = std::move(url);
    } else {
      std::string custom_id = ButtonKey::Encode(r.id, i);
      if (custom_id.size() > kMaxCustomId) {
        return Error::Invalid("discord custom_id over " + std::to_string(kMaxCustomId));
      }
      const std::string style = ChoiceMeaning::Style(c);
      button["style"] = style == "primary" ? 1 : style == "danger" ? 4 : 2;
      button["custom_id"] = std::move(custom_id);
    }
    add(std::move(button));
  }
  // Approving with a standing permission, on a row of their own. The link page offers them to
  // webhook mode's link buttons.
  const auto approve = mode_ == Mode::kApplication ? GrantChoiceIndex(r) : std::nullopt;
  if (approve && !row.empty()) {
    rows.emplace_back(json::object{{"type", 1}, {"components", std::move(row)}});
    row = json::array();
  }
  for (const GrantOption& option : approve ? r.grant_options : std::vector<GrantOption>()) {
    std::string custom_id = ButtonKey::Encode(r.id, *approve, option.scope);
    if (custom_id.size() > kMaxCustomId) {
      return Error::Invalid("discord custom_id over " + std::to_string(kMaxCustomId));
    }
    add(json::object{{"type", 2},
                     {"label", GrantButtonText(r, option, kMaxLabel)},
                     {"style", 1},
                     {"custom_id", std::move(custom_id)}});
  }
  return finish();
}

json::object DiscordChannel::Ephemeral(std::string_view text) {
  return json::object{{"content", TruncateText(text, kMaxContent)},
                      {"flags", 64},
                      {"allowed_mentions", json::object{{"parse", json::array()}}}};
}

json::object DiscordChannel::FormOffer(const Request& request, const std::string& choice,
                                       const std::string& principal,
                                       std::string_view reason) const {
  json::object data = Ephemeral(reason);
  if (!request.pending()) return data;
  std::string url = links_.Url(request, choice, principal);
  if (TextLength(url) > kMaxUrl) return data;
  json::object button{{"type", 2}, {"style", 5}, {"label", "Open the form"}, {"url", url}};
  data["components"] = json::array{json::object{{"type", 1}, {"components", json::array{button}}}};
  return data;
}

Result<json::object> DiscordChannel::MessageData(const Request& request, std::string_view event,
                                                 const std::optional<GrantOption>& granted) const {
  auto components = Components(request);
  if (!components.ok()) return std::move(components).error();
  return json::object{{"content", Content(request, event, granted)},
                      {"embeds", json::array{Embed(request, event, granted)}},
                      {"components", std::move(*components)},
                      {"allowed_mentions", NoMentions()}};
}

std::string DiscordChannel::WebhookUrl(std::string_view path, std::string_view query) const {
  const size_t mark = webhook_url_.find('?');
  std::string url = webhook_url_.substr(0, mark);
  url += path;
  url += '?';
  if (mark != std::string::npos && mark + 1 < webhook_url_.size()) {
    url += webhook_url_.substr(mark + 1);
    url += '&';
  }
  url += query;
  return url;
}

OutboundCall DiscordChannel::Call(std::string method, std::string url,
                                  const json::object& body) const {
  OutboundCall call;
  call.method = std::move(method);
  call.url = std::move(url);
  call.headers = {{"Content-Type", "application/json"}, {"User-Agent", kUserAgent}};
  if (mode_ == Mode::kApplication) call.headers.emplace_back("Authorization", "Bot " + bot_token_);
  call.body = json::serialize(body);
  return call;
}

Result<OutboundCall> DiscordChannel::Render(const OutboxRow& row, const Request& request,
                                            std::string_view message_ref) const {
  if (row.kind != "post" && row.kind != "update" && row.kind != "remind") {
    return Error::Invalid("discord channel '" + name_ + "' cannot deliver a '" + row.kind +
                          "' row");
  }
  const auto ref = ParseMessageRef(message_ref);
  // A reminder of a request that has meanwhile been resolved only refreshes the message.
  if (row.kind == "remind" && ref && request.pending()) {
    json::object body{{"content", ReminderContent(request, row.event)},
                      {"allowed_mentions", NoMentions()}};
    if (mode_ == Mode::kWebhook) return Call("POST", WebhookUrl("", "wait=true"), body);
    body["message_reference"] =
        json::object{{"message_id", ref->message_id}, {"fail_if_not_exists", false}};
    return Call("POST", api_base_ + "/channels/" + channel_id_ + "/messages", body);
  }
  auto data = MessageData(request, row.event, GrantedFromPayload(row.payload));
  if (!data.ok()) return std::move(data).error();
  if (ref && row.kind != "post") {
    if (mode_ == Mode::kWebhook) {
      return Call("PATCH", WebhookUrl("/messages/" + ref->message_id, "with_components=true"),
                  *data);
    }
    const std::string& channel = ref->channel_id.empty() ? channel_id_ : ref->channel_id;
    return Call("PATCH", api_base_ + "/channels/" + channel + "/messages/" + ref->message_id,
                *data);
  }
  // A post, or an edit of a message that never got posted: post the current state.
  if (mode_ == Mode::kWebhook) {
    return Call("POST", WebhookUrl("", "wait=true&with_components=true"), *data);
  }
  return Call("POST", api_base_ + "/channels/" + channel_id_ + "/messages", *data);
}

DeliveryOutcome DiscordChannel::Interpret(const OutboxRow& row, const OutboundReply& reply) const {
  boost::system::error_code ec;
  json::value body = reply.body.empty() ? json::value() : json::parse(reply.body, ec);
  const json::object* o = !ec && body.is_object() ? &body.get_object() : nullptr;
  if (reply.status == 429) {
    std::optional<std::chrono::seconds> after = ParseRetryAfter(reply.Header("retry-after"));
    // The body's retry_after is exact (fractional seconds); the header is rounded.
    const auto* retry_after = o ? o->if_contains("retry_after") : nullptr;
    if (retry_after && retry_after->is_number()) {
      const double seconds = retry_after->to_number<double>();
      if (seconds >= 0 && seconds <= 24 * 3600) {
        after = std::chrono::seconds(static_cast<int64_t>(std::ceil(seconds)));
      }
    }
    std::string why = "discord: HTTP 429";
    if (o) why += " " + StringAt(*o, "message");
    return DeliveryOutcome::Retry(why, after);
  }
  if (reply.status >= 200 && reply.status < 300) {
    if ((row.kind != "post" && row.kind != "update") || !o) return DeliveryOutcome::Delivered();
    const std::string id = StringAt(*o, "id");
    if (!IsSnowflake(id)) return DeliveryOutcome::Delivered();
    return DeliveryOutcome::Delivered(json::serialize(
        json::object{{"channel_id", StringAt(*o, "channel_id")}, {"message_id", id}}));
  }
  DeliveryOutcome outcome = InterpretHttpStatus(reply);
  if (outcome.kind == DeliveryOutcome::Kind::kFailed && o) {
    // {"code": 10008, "message": "Unknown Message"}
    const auto* code = o->if_contains("code");
    outcome.error = "discord: HTTP " + std::to_string(reply.status) +
                    (code && code->is_int64() ? " code " + std::to_string(code->get_int64()) : "") +
                    " " + TruncateText(StringAt(*o, "message"), 200);
  }
  return outcome;
}

Result<DiscordInteraction> DiscordChannel::ReadInteraction(const InboundCallback& callback,
                                                           TimePoint now) const {
  if (!verifier_) {
    return Error::Unauthorized("discord channel '" + name_ + "' is a webhook: it takes no clicks");
  }
  CS_RETURN_IF_ERROR(verifier_->Verify(Header(callback, "x-signature-timestamp"),
                                       Header(callback, "x-signature-ed25519"), callback.body,
                                       now));
  // Verified: from here on the body is Discord's own.
  boost::system::error_code ec;
  json::value parsed = json::parse(callback.body, ec);
  if (ec || !parsed.is_object()) return Error::Malformed("the interaction is not a JSON object");
  if (auto twice = FindDuplicateKey(callback.body)) {
    return Error::Malformed("the interaction names the key \"" + *twice + "\" twice");
  }
  const json::object& interaction = parsed.get_object();
  const auto* type = interaction.if_contains("type");
  if (!type || !type->is_int64()) return Error::Malformed("an interaction without a type");
  const std::string id = StringAt(interaction, "id");
  if (!id.empty()) {
    const int64_t now_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    int64_t sent = now_seconds;
    const std::string timestamp = Header(callback, "x-signature-timestamp");
    std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent);
    CS_RETURN_IF_ERROR(interactions_.Admit(id, sent, now_seconds));
  }
  DiscordInteraction out;
  if (type->get_int64() == 1) {
    out.type = DiscordInteraction::Type::kPing;
    return out;
  }
  if (type->get_int64() != 3) return out;
  out.type = DiscordInteraction::Type::kComponent;
  std::string channel = StringAt(interaction, "channel_id");
  const json::object* message = ObjectAt(interaction, "message");
  if (channel.empty() && message) channel = StringAt(*message, "channel_id");
  out.in_channel = channel == channel_id_;

  const json::object* data = ObjectAt(interaction, "data");
  auto key = data ? ButtonKey::Parse(StringAt(*data, "custom_id")) : std::nullopt;
  if (!key) return out;
  // In a server the clicker is member.user; in a direct message, user.
  const json::object* member = ObjectAt(interaction, "member");
  const json::object* user = member ? ObjectAt(*member, "user") : nullptr;
  if (!user) user = ObjectAt(interaction, "user");
  const std::string user_id = user ? StringAt(*user, "id") : std::string();
  if (!IsSnowflake(user_id)) return Error::Malformed("a component click without a user id");
  ChannelCallback press;
  press.identity = "discord:" + user_id;
  press.display_name = StringAt(*user, "global_name");
  if (press.display_name.empty()) press.display_name = StringAt(*user, "username");
  if (press.display_name.empty()) press.display_name = user_id;
  press.request_id = std::move(key->request_id);
  press.choice_index = key->choice_index;
  press.grant_scope = std::move(key->grant_scope);
  out.press = std::move(press);
  return out;
}

Result<ChannelCallback> DiscordChannel::ParseCallback(const InboundCallback& callback,
                                                      TimePoint now) const {
  auto interaction = ReadInteraction(callback, now);
  if (!interaction.ok()) return std::move(interaction).error();
  if (!interaction->press) return Error::Invalid("not a click of a countersign button");
  if (!interaction->in_channel) return Error::NotFound("a button in another channel");
  return std::move(*interaction->press);
}

}  // namespace countersign
