#include "http/slack_events.hpp"

#include <spdlog/spdlog.h>

#include "core/mutex_lock.hpp"
#include "core/utf8_text.hpp"

namespace countersign {
namespace {

std::string StringAt(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Slack sends &, < and > as entities; the transcript keeps what the person typed.
std::string Unescape(std::string text) {
  static constexpr std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [entity, plain] : kEntities) {
    for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1)) {
      text.replace(at, std::string_view(entity).size(), plain);
    }
  }
  return text;
}

void LogOutcome(const char* what, const std::string& who,
                const Result<Gateway::ConversationChanged>& changed) {
  if (!changed.ok()) {
    spdlog::info("slack {} from {} not recorded: {}", what, who, changed.error().message);
  } else if (changed->appended.empty()) {
    spdlog::debug("slack {} from {}: no open chat for it (or a redelivery)", what, who);
  }
}

}  // namespace

SlackEvents::SlackEvents(Gateway& gateway, const Clock& clock,
                         std::map<std::string, std::string> identities, bool with_judge,
                         SlackEventsOptions options)
    : gateway_(gateway),
      clock_(clock),
      identities_(std::move(identities)),
      with_judge_(with_judge),
      options_(options),
      seen_(std::chrono::hours(1), 100000),
      per_user_(options.messages_per_minute, std::chrono::seconds(60)) {}

void SlackEvents::SetBotUser(const std::string& channel, std::string user_id) {
  MutexLock lock(mu_);
  bot_users_[channel] = std::move(user_id);
}

std::string SlackEvents::BotUser(const std::string& channel) const {
  MutexLock lock(mu_);
  auto it = bot_users_.find(channel);
  return it == bot_users_.end() ? std::string() : it->second;
}

std::string SlackEvents::Addressed(const SlackChannel& channel, const std::string& text) const {
  const std::string bot = BotUser(channel.name());
  std::string out;
  if (!bot.empty()) {
    const std::string mention = "<@" + bot + ">";
    const size_t at = text.find(mention);
    if (at != std::string::npos) out = text.substr(0, at) + text.substr(at + mention.size());
  }
  const std::string& prefix = channel.analyst_prefix();
  if (out.empty() && !prefix.empty() && text.starts_with(prefix)) out = text.substr(prefix.size());
  const size_t first = out.find_first_not_of(" \t\n");
  return first == std::string::npos ? std::string() : out.substr(first);
}

void SlackEvents::Handle(const SlackChannel& channel, const std::string& tenant,
                         const boost::json::object& wrapper) {
  const TimePoint now = clock_.Now();
  const int64_t now_s = ToUnixMillis(now) / 1000;
  const std::string event_id = StringAt(wrapper, "event_id");
  if (!event_id.empty() && !seen_.Admit(channel.name() + "/" + event_id, now_s, now_s).ok()) {
    spdlog::debug("slack event {} delivered again: ignored", event_id);
    return;
  }
  // The Events API names the bot it delivers to: its own messages are not answers, and a
  // mention of it addresses it.
  if (const auto* auth = wrapper.if_contains("authorizations");
      auth && auth->is_array() && !auth->get_array().empty() && auth->get_array()[0].is_object()) {
    const auto& first = auth->get_array()[0].get_object();
    const auto* is_bot = first.if_contains("is_bot");
    const std::string id = StringAt(first, "user_id");
    if (is_bot && is_bot->is_bool() && is_bot->get_bool() && !id.empty() &&
        BotUser(channel.name()) != id) {
      SetBotUser(channel.name(), id);
    }
  }
  const auto* e = wrapper.if_contains("event");
  if (!e || !e->is_object()) return;
  const boost::json::object& event = e->get_object();
  const std::string type = StringAt(event, "type");
  const std::string user = StringAt(event, "user");
  const std::string ts = StringAt(event, "ts");
  if ((type != "message" && type != "app_mention") || user.empty() || ts.empty()) return;
  // Edits, deletions, joins, bots (ourselves included): not a person saying something.
  if (!StringAt(event, "subtype").empty() || event.contains("bot_id") ||
      user == BotUser(channel.name())) {
    return;
  }
  std::string text = Unescape(StringAt(event, "text"));
  static constexpr std::string_view kCut = " [cut: the message was longer]";
  if (text.size() > options_.max_message_bytes) {
    text = ValidUtf8(text, options_.max_message_bytes - kCut.size()) + std::string(kCut);
  }
  const std::string identity = "slack:" + user;
  // Only what reaches a conversation counts against a person's rate, once per message.
  const auto admitted = [&] {
    if (int64_t wait = per_user_.Acquire(identity, now)) {
      spdlog::warn("slack user {} is writing too fast: message {} dropped (next in {}s)", user, ts,
                   wait);
      return false;
    }
    return true;
  };

  if (type == "message" && StringAt(event, "channel_type") == "im") {
    if (!admitted()) return;
    gateway_.SubjectSaid(tenant, identity, std::move(text), ts, with_judge_,
                         [identity](Result<Gateway::ConversationChanged> changed) {
                           LogOutcome("direct message", identity, changed);
                         });
    return;
  }
  const std::string thread = StringAt(event, "thread_ts");
  if (thread.empty() || thread == ts) return;
  std::string said = Addressed(channel, text);
  if (said.empty()) return;
  if (!admitted()) return;
  // Who the analyst is reads the store (their tokens' groups): on the read executor.
  auto relay = [this, tenant, thread, identity, said = std::move(said), ts]() mutable {
    std::optional<Actor> actor;
    if (auto it = identities_.find(identity); it != identities_.end()) {
      actor = gateway_.PrincipalActor(tenant, it->second);
    }
    gateway_.AnalystSaid(tenant, thread, identity, std::move(actor), std::move(said), ts,
                         [identity](Result<Gateway::ConversationChanged> changed) {
                           LogOutcome("thread reply", identity, changed);
                         });
  };
  if (!gateway_.RunOnReadExecutor(std::move(relay))) {
    spdlog::warn("slack thread reply {} dropped: countersign is busy", ts);
  }
}

}  // namespace countersign
