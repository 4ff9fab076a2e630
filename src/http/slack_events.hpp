// SlackEvents: what Slack's events mean for conversations, whichever way they arrive (the HTTP
// Events API at /hooks/slack/events, or a Socket Mode connection): one code path
// (docs/conversations.md).
//
// Of an event_callback's `event`, two kinds matter:
// - a direct message from a person (type "message", channel_type "im", no subtype, no bot_id,
//   not the bot's own user): recorded on that person's chatting conversation
//   (Gateway::SubjectSaid), keyed by Slack's ts so a redelivery adds nothing;
// - a reply in an alert's thread (type "message" or "app_mention" with a thread_ts) that
//   mentions the bot or starts with the channel's analyst_prefix: relayed to the subject when
//   its author may act on the alert (Gateway::AnalystSaid).
// Everything else is acknowledged and ignored. Events are de-duplicated by event_id; the bot's
// user id is learned from the wrapper's authorizations (or auth.test, by Socket Mode). What
// reaches a conversation (a direct message, an addressed thread reply) is cut at
// `max_message_bytes` and limited to `messages_per_minute` per Slack user.
// Handle() returns at once: the work runs on the gateway's read executor and writer, never on
// the caller's (network) thread. Thread-safe.
#pragma once

#include <map>
#include <string>

#include <boost/json/object.hpp>

#include "auth/replay_cache.hpp"
#include "core/mutex.hpp"
#include "engine/gateway.hpp"
#include "engine/rate_limiter.hpp"
#include "notify/slack_channel.hpp"

namespace countersign {

struct SlackEventsOptions {
  size_t max_message_bytes = 4000;
  int messages_per_minute = 20;  // per Slack user
};

class SlackEvents {
 public:
  // `identities`: "slack:U…" -> principal. `with_judge`: a model judges the subjects' replies.
  SlackEvents(Gateway& gateway, const Clock& clock, std::map<std::string, std::string> identities,
              bool with_judge, SlackEventsOptions options = {});

  // An event_callback wrapper from `channel`, serving `tenant`.
  void Handle(const SlackChannel& channel, const std::string& tenant,
              const boost::json::object& wrapper);
  // The bot's own Slack user id on `channel` (from auth.test): its messages are ignored, and a
  // mention of it addresses the bot.
  void SetBotUser(const std::string& channel, std::string user_id);

 private:
  std::string BotUser(const std::string& channel) const;
  // The text an analyst addressed to the bot, without the mention or prefix; empty when the
  // reply is not addressed to it.
  std::string Addressed(const SlackChannel& channel, const std::string& text) const;

  Gateway& gateway_;
  const Clock& clock_;
  std::map<std::string, std::string> identities_;
  bool with_judge_;
  SlackEventsOptions options_;
  ReplayCache seen_;  // event ids
  RateLimiter per_user_;
  mutable Mutex mu_;
  std::map<std::string, std::string> bot_users_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
