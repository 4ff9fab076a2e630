// SlackSocketMode: Slack's events and button presses over Socket Mode, for an installation with
// no public URL (a [[channel]] of type "slack" with mode = "socket" and an app-level token;
// PROTOCOLS-AGENTS.md 4.1, docs/conversations.md).
//
// One thread of its own. It asks apps.connections.open (the app token, through the server's
// HttpTransport and so the outbound policy) for a WebSocket URL, connects it through Beast
// (TLS with the system's CAs and the host name checked for wss; the resolved address passes
// the outbound policy too), and reads frames:
//   hello         the connection is up (the previous one, if any, is closed now);
//   envelope      acknowledged at once ({"envelope_id": …}) before anything else is done, then
//                 de-duplicated by envelope_id and handed over: events_api to SlackEvents (the
//                 same handler as POST /hooks/slack/events), interactive (block_actions) to the
//                 press handler (the same path as POST /hooks/slack), slash_commands dropped;
//   disconnect    a new URL is fetched and connected, and the old socket is closed only once
//                 the new one has said hello, so no envelope falls between the two.
// Beast answers Slack's pings and pings an idle socket itself; a socket silent for
// `idle_timeout` is stale and is replaced. Failures back off exponentially (up to
// `max_backoff`); a rate-limited apps.connections.open waits what Retry-After says. The bot's
// own user id comes from auth.test, so SlackEvents ignores its messages. state() is what
// /metrics and /readyz show. Thread-safe: Start/Stop/state from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "auth/replay_cache.hpp"
#include "core/mutex.hpp"
#include "http/beast.hpp"
#include "http/slack_events.hpp"
#include "notify/channel.hpp"
#include "notify/http_transport.hpp"
#include "notify/outbound_policy.hpp"
#include "notify/slack_channel.hpp"

namespace countersign {

struct SlackSocketModeOptions {
  std::chrono::milliseconds idle_timeout{20000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds first_backoff{250};
  std::chrono::milliseconds max_backoff{60000};
};

class SlackSocketMode {
 public:
  // A verified button press from the socket, for the same path as POST /hooks/slack.
  using PressHandler =
      std::function<void(const SlackChannel& channel, const std::string& tenant, ChannelCallback)>;

  struct State {
    std::string channel;
    bool connected = false;
    uint64_t connections = 0;  // sockets that said hello
    uint64_t envelopes = 0;    // acknowledged
    uint64_t duplicates = 0;   // acknowledged, and dropped as seen before
    uint64_t failures = 0;     // connections that failed or went stale
    std::string last_error;
  };

  // Everything passed must outlive this object.
  SlackSocketMode(const SlackChannel& channel, std::string tenant, HttpTransport& transport,
                  OutboundPolicy policy, SlackEvents& events, PressHandler presses,
                  SlackSocketModeOptions options = {});
  ~SlackSocketMode();
  SlackSocketMode(const SlackSocketMode&) = delete;
  SlackSocketMode& operator=(const SlackSocketMode&) = delete;

  void Start();
  // Closes the socket and joins the thread. Idempotent.
  void Stop();
  State state() const;

 private:
  struct Session;

  asio::awaitable<void> Run();
  asio::awaitable<void> RunSession(std::shared_ptr<Session> session);
  // apps.connections.open: the URL, or the error (`retry_after` set when rate-limited).
  Result<std::string> OpenUrl(std::chrono::milliseconds& retry_after);
  void LearnBotUser();
  // One text frame of `session`: what to write back (the ack), if anything.
  std::string OnText(Session& session, std::string_view text);
  void Dispatch(const std::string& type, const boost::json::value& payload);
  // Asks Run() for a new connection.
  void WantNew();
  void Fail(const std::string& why);

  const SlackChannel& channel_;
  const std::string tenant_;
  HttpTransport& transport_;
  const OutboundPolicy policy_;
  SlackEvents& events_;
  PressHandler presses_;
  const SlackSocketModeOptions options_;

  asio::io_context io_;
  std::thread thread_;
  // Only on the io thread:
  std::vector<std::shared_ptr<Session>> sessions_;  // oldest first
  uint64_t next_session_ = 0;
  bool want_new_ = true;
  bool failed_last_ = false;  // the last attempt failed: back off before the next
  std::chrono::milliseconds backoff_{0};
  std::unique_ptr<asio::steady_timer> wake_;   // Run() waits here for a reason to connect
  std::unique_ptr<asio::steady_timer> delay_;  // and here while backing off
  ReplayCache seen_;                           // envelope ids

  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  State state_ CS_GUARDED_BY(mu_);
};

}  // namespace countersign
