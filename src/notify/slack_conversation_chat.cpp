#include "notify/slack_conversation_chat.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "notify/chat_text.hpp"
#include "notify/slack_mrkdwn.hpp"

namespace countersign {
namespace {

namespace json = boost::json;

constexpr size_t kMaxSection = 3000;
constexpr size_t kMaxText = 4000;
constexpr std::string_view kTransientErrors[] = {"internal_error", "fatal_error",
                                                 "service_unavailable", "request_timeout"};

json::object Button(const std::string& channel, const Request& r, const char* choice,
                    const char* text, const char* style) {
  json::object b{{"type", "button"},
                 {"action_id", choice},
                 {"text", json::object{{"type", "plain_text"}, {"text", text}}},
                 {"value", json::serialize(json::object{
                               {"channel", channel}, {"request", r.id}, {"choice", choice}})}};
  if (style) b["style"] = style;
  return b;
}

json::object Section(const std::string& mrkdwn) {
  return {
      {"type", "section"},
      {"text", json::object{{"type", "mrkdwn"}, {"text", TruncateMrkdwn(mrkdwn, kMaxSection)}}}};
}

// What happened to the alert so far, one line each, for the analysts.
std::string StatusLines(const Request& r, const Conversation& c) {
  std::string lines;
  const auto add = [&](const std::string& line) { lines += "\n" + line; };
  if (!c.started_by.empty()) add(SlackConversationChat::Mention(c.started_by) + " started a chat.");
  if (c.phase == ConversationPhase::kChatting && c.needs_analyst) {
    add(":raising_hand: Waiting for an analyst to settle it.");
  }
  if (c.phase == ConversationPhase::kClosing) {
    add(":hourglass_flowing_sand: " + SlackConversationChat::Mention(c.closed_by) +
        " closed the chat; writing the summary.");
  }
  switch (r.status) {
    case RequestStatus::kPending:
      break;
    case RequestStatus::kDismissed:
      add(":white_circle: " + SlackConversationChat::Mention(c.closed_by) +
          " decided that no action was necessary.");
      break;
    case RequestStatus::kEnded:
      add(":stop_button: " + SlackConversationChat::Mention(c.closed_by) + " ended the chat.");
      break;
    case RequestStatus::kAnswered: {
      const char* aware = !c.result.is_aware   ? "answered"
                          : *c.result.is_aware ? "was aware of it"
                                               : "was *not* aware of it";
      add(std::string(":white_check_mark: The user ") + aware + " (" +
          (c.closed_by == "judge" ? std::string("judged by the model")
                                  : "settled by " + SlackConversationChat::Mention(c.closed_by)) +
          "). The chat has ended.");
      break;
    }
    case RequestStatus::kExpired:
      add(":hourglass: Expired: no answer before the deadline.");
      break;
    default:
      add(std::string(":no_entry_sign: ") + StatusName(r.status) + ".");
  }
  return lines;
}

}  // namespace

std::string SlackConversationChat::Mention(const std::string& who) {
  if (who.starts_with("slack:")) return "<@" + EscapeMrkdwn(who.substr(6)) + ">";
  if (who == "judge") return "The model";
  return "*" + EscapeMrkdwn(who) + "*";
}

json::array SlackConversationChat::AlertBlocks(const Request& r, const Conversation& c,
                                               bool with_model) const {
  json::array blocks;
  blocks.push_back(Section(":rotating_light: *Incident:* " + Mrkdwn(c.alert.name, 500) +
                           " with user " + Mention(c.subject)));
  std::string context =
      c.alert.description.empty() ? std::string() : Mrkdwn(c.alert.description, 1500) + "\n";
  context += "Question: " + Mrkdwn(c.question, 500) + " \u00b7 Details in the thread.";
  blocks.push_back(
      json::object{{"type", "context"},
                   {"elements", json::array{json::object{{"type", "mrkdwn"}, {"text", context}}}}});
  if (std::string lines = StatusLines(r, c); !lines.empty()) {
    blocks.push_back(Section(lines.substr(1)));
  }
  json::array buttons;
  const std::string& ch = channel_.name();
  if (r.pending() && c.phase == ConversationPhase::kPosted) {
    buttons.push_back(Button(ch, r, kStartChoice, "Start chat", "primary"));
    buttons.push_back(Button(ch, r, kDismissChoice, "Do nothing", "danger"));
  } else if (r.pending() && c.phase == ConversationPhase::kChatting) {
    if (!with_model || c.needs_analyst) {
      buttons.push_back(Button(ch, r, kConfirmedChoice, "User confirmed", "primary"));
      buttons.push_back(Button(ch, r, kDeniedChoice, "User denied", nullptr));
    }
    buttons.push_back(Button(ch, r, kEndChoice, "End chat", "danger"));
  }
  if (!buttons.empty()) {
    blocks.push_back(json::object{{"type", "actions"},
                                  {"block_id", "countersign_conversation"},
                                  {"elements", std::move(buttons)}});
  }
  return blocks;
}

Result<json::object> SlackConversationChat::Call(const std::string& method,
                                                 const json::object& body) {
  OutboundCall call;
  call.url = channel_.api_base() + "/" + method;
  call.headers = {{"Content-Type", "application/json; charset=utf-8"},
                  {"Authorization", "Bearer " + channel_.bot_token()}};
  call.body = json::serialize(body);
  const OutboundReply reply = transport_.Send(call, kCallTimeout);
  if (reply.refused) return Error::Invalid("the outbound policy refuses " + call.url);
  if (reply.status == 429) {
    const std::string after = reply.Header("retry-after");
    int64_t seconds = 1;
    if (!after.empty() && after.find_first_not_of("0123456789") == std::string::npos &&
        after.size() < 6) {
      seconds = std::max<int64_t>(1, std::stoll(after));
    }
    return Error::RateLimited("Slack rate-limited " + method, seconds);
  }
  if (reply.status == 0) return Error::Unavailable("Slack " + method + ": " + reply.error);
  if (reply.status >= 500) {
    return Error::Unavailable("Slack " + method + " answered HTTP " + std::to_string(reply.status));
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(reply.body, ec);
  if (ec || !parsed.is_object()) {
    return Error::Unavailable("Slack " + method + " answered HTTP " + std::to_string(reply.status) +
                              " without JSON");
  }
  json::object& o = parsed.get_object();
  const auto* ok = o.if_contains("ok");
  if (ok && ok->is_bool() && ok->get_bool()) return std::move(o);
  const auto* err = o.if_contains("error");
  const std::string error = err && err->is_string() ? std::string(err->get_string()) : "unknown";
  if (error == "ratelimited") return Error::RateLimited("Slack rate-limited " + method, 1);
  for (auto transient : kTransientErrors) {
    if (error == transient) return Error::Unavailable("Slack " + method + ": " + error);
  }
  return Error::Invalid("Slack " + method + " refused: " + error);
}

Result<ChatMessageRef> SlackConversationChat::PostAlert(const Request& r, const Conversation& c,
                                                        bool with_model) {
  auto posted =
      Call("chat.postMessage", {{"channel", channel_.feed_channel()},
                                {"text", TruncateText("Incident: " + c.alert.name, kMaxText)},
                                {"blocks", AlertBlocks(r, c, with_model)},
                                {"unfurl_links", false}});
  if (!posted.ok()) return std::move(posted).error();
  ChatMessageRef ref;
  if (const auto* v = posted->if_contains("channel"); v && v->is_string())
    ref.channel = v->get_string();
  if (const auto* v = posted->if_contains("ts"); v && v->is_string()) ref.ts = v->get_string();
  if (ref.channel.empty() || ref.ts.empty()) {
    return Error::Unavailable("Slack chat.postMessage answered without channel and ts");
  }
  return ref;
}

Status SlackConversationChat::UpdateAlert(const Request& r, const Conversation& c,
                                          bool with_model) {
  auto updated = Call("chat.update", {{"channel", c.feed_channel},
                                      {"ts", c.feed_ts},
                                      {"text", TruncateText("Incident: " + c.alert.name, kMaxText)},
                                      {"blocks", AlertBlocks(r, c, with_model)}});
  if (!updated.ok()) return std::move(updated).error();
  return Ok();
}

std::string SlackConversationChat::MirrorText(const Conversation& c, const ConversationMessage& m) {
  // Each line of the text quoted, so it reads as what was said, not as the bot's own words.
  std::string quoted;
  const std::string escaped = TruncateMrkdwn(EscapeMrkdwn(m.text), kMaxText - 200);
  size_t start = 0;
  while (start <= escaped.size()) {
    const size_t end = escaped.find('\n', start);
    quoted += "\n>" + escaped.substr(start, end == std::string::npos ? end : end - start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  switch (m.role) {
    case MessageRole::kSubject:
      return "Received from " + Mention(c.subject) + ":" + quoted;
    case MessageRole::kBot:
      return "Sent to " + Mention(c.subject) + ":" + quoted;
    case MessageRole::kAnalyst:
      return Mention(m.author) + " to " + Mention(c.subject) + ":" + quoted;
    case MessageRole::kNote:
      return escaped;
  }
  return escaped;
}

Result<std::string> SlackConversationChat::SendToSubject(const Conversation& c,
                                                         const ConversationMessage& m) {
  std::string dm = c.dm_channel;
  if (dm.empty()) {
    auto opened =
        Call("conversations.open", {{"users", c.subject.substr(c.subject.find(':') + 1)}});
    if (!opened.ok()) return std::move(opened).error();
    const auto* channel = opened->if_contains("channel");
    if (channel && channel->is_object()) {
      if (const auto* id = channel->get_object().if_contains("id"); id && id->is_string()) {
        dm = std::string(id->get_string());
      }
    }
    if (dm.empty()) return Error::Unavailable("Slack conversations.open answered without an id");
  }
  std::string text = Mrkdwn(m.text, kMaxText - 100);
  if (c.dm_channel.empty() && m.role == MessageRole::kBot)
    text = "Hi " + Mention(c.subject) + ", " + text;
  if (m.role == MessageRole::kAnalyst) text = "_From the security team:_ " + text;
  auto sent = Call("chat.postMessage", {{"channel", dm}, {"text", text}, {"unfurl_links", false}});
  if (!sent.ok()) return std::move(sent).error();
  return dm;
}

Status SlackConversationChat::Mirror(const Conversation& c, const ConversationMessage& m) {
  auto sent = Call("chat.postMessage", {{"channel", c.feed_channel},
                                        {"thread_ts", c.feed_ts},
                                        {"text", MirrorText(c, m)},
                                        {"unfurl_links", false}});
  if (!sent.ok()) return std::move(sent).error();
  return Ok();
}

}  // namespace countersign
