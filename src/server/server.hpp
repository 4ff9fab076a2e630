// Server: everything `countersign serve` runs, owned in one place.
//
// The members below are the object graph, declared in the order they are built, so they are
// destroyed in the reverse order: whatever holds a reference to another object is declared
// after it. Start() builds them one by one, each step logging what it did and failing with a
// message naming what went wrong; on a failure the part already built is stopped and torn
// down in reverse.
//
// The stop sequence, in order (BeginStop() and FinishStop()):
//   1. stop accepting connections: idle ones close, busy ones finish their response;
//   2. stop listening for signals;
//   3. stop the gateway: waiting long-polls answer with the current state, the deadline
//      scheduler stops;
//   4. release the connection pool: each connection thread ends once its connections have;
//   --- Run()'s event loop returns once the listener has closed ---
//   5. join the connection threads;
//   6. stop the gateway's read executor (queued reads finish);
//   7. stop the outbox dispatcher (attempts in flight finish);
//   8. stop the store (queued writes commit, the writer thread ends).
// Steps 1-4 run on the listener thread when SIGINT or SIGTERM arrives (or Stop() is called),
// steps 5-8 on Run()'s thread after its loop, or in the destructor when Run() never ran.
//
// Thread-safety: Start(), Run() and the destructor on one thread; Stop() from any thread;
// Reload() on the listener thread (SIGHUP) or, when Run() is not running, the owner's.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "auth/ed25519_receipt_signer.hpp"
#include "auth/link_signer.hpp"
#include "auth/open_authenticator.hpp"
#include "auth/token_authenticator.hpp"
#include "compat/aisoc_handlers.hpp"
#include "compat/hermes_handlers.hpp"
#include "compat/molecule_handlers.hpp"
#include "compat/molecule_pages.hpp"
#include "config/server_config.hpp"
#include "core/id_generator.hpp"
#include "core/public_url.hpp"
#include "core/result.hpp"
#include "core/system_clock.hpp"
#include "engine/audit_sealer.hpp"
#include "engine/conversation_assistant.hpp"
#include "engine/conversation_worker.hpp"
#include "engine/event_bus.hpp"
#include "engine/gateway.hpp"
#include "engine/retention_pruner.hpp"
#include "engine/token_registry.hpp"
#include "http/api_handlers.hpp"
#include "http/beast.hpp"
#include "http/claude_code_handlers.hpp"
#include "http/conversation_handlers.hpp"
#include "http/hook_handlers.hpp"
#include "http/http_server.hpp"
#include "http/io_context_pool.hpp"
#include "http/key_handlers.hpp"
#include "http/link_handlers.hpp"
#include "http/mcp_handlers.hpp"
#include "http/metrics.hpp"
#include "http/outbox_handlers.hpp"
#include "http/receipt_handlers.hpp"
#include "http/router.hpp"
#include "http/slack_events.hpp"
#include "http/slack_socket_mode.hpp"
#include "http/stream_handlers.hpp"
#include "http/system_handlers.hpp"
#include "http/ui_admin_handlers.hpp"
#include "http/ui_audit_handlers.hpp"
#include "http/ui_handlers.hpp"
#include "http/ui_oidc_handlers.hpp"
#include "http/ui_session_table.hpp"
#include "notify/channel_set.hpp"
#include "notify/curl_transport.hpp"
#include "notify/dispatcher.hpp"
#include "notify/link_builder.hpp"
#include "notify/outbox_notifier.hpp"
#include "notify/slack_conversation_chat.hpp"
#include "store/store.hpp"
#include "web/link_pages.hpp"
#include "web/ui_pages.hpp"

namespace countersign {

class Server {
 public:
  // Builds the whole graph for `config`: the data directory, the store, the keys, the first
  // admin token, the listener (bound, not yet serving), the channels, the deadline scheduler
  // and the outbox dispatcher; then writes the port file. `options` is what `config` was
  // loaded from, kept to load it again on SIGHUP. The error's message is the one line serve
  // logs before it exits 1.
  static Result<std::unique_ptr<Server>> Start(ServerConfig config, ServeOptions options);

  // Runs whatever part of the stop sequence has not run.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until SIGINT or SIGTERM (or Stop()), reloading on SIGHUP, then finishes the stop
  // sequence and logs "stopped cleanly".
  void Run();
  // Begins the stop sequence as SIGTERM does (without its log line). Returns at once.
  void Stop();
  // Applies what a running server takes from a freshly loaded configuration: its policies
  // ([groups], [[policy]] and [risk]). The rest changes on a restart only.
  void Reload(const ServerConfig& fresh);

  // Where the listener is bound (port 0 resolved to the port the system picked).
  const tcp::endpoint& endpoint() const { return bound_; }
  // The policies in force.
  std::shared_ptr<const PolicySet> policies() const;

 private:
  Server(ServerConfig config, ServeOptions options);

  // The construction steps, in member order.
  Status Open();
  Status OpenStore();
  Status BootstrapAdmin();
  Status Listen();
  Status BuildChannels();
  // Conversations (docs/conversations.md): the assistant ([llm] or templates), a chat for each
  // Slack channel in Web API mode, the Slack events router, the worker and the API routes.
  Status OpenConversations();
  // Installs the signal handlers on io_ (run by Run()).
  void HandleSignals();
  void WaitForReloadSignal();
  // SIGHUP: loads the configuration again from options_ and reloads, or says why not.
  void OnReloadSignal();
  // The stop sequence (see the top of this file).
  void BeginStop();
  void FinishStop();

  const ServerConfig config_;
  const ServeOptions options_;
  int threads_ = 1;  // network threads

  // Declared before the store, so the store's writer thread is gone before the bus is.
  EventBus event_bus_;
  std::unique_ptr<Store> store_;
  SystemClock clock_;
  IdGenerator ids_{clock_};  // tokens, outbox deliveries; requests take the gateway's
  std::unique_ptr<Ed25519ReceiptSigner> receipt_signer_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<AuditSealer> sealer_;  // signs the audit chain; on the gateway's alarms
  // Removes requests resolved before [retention] resolved_after; on the gateway's alarms.
  std::unique_ptr<RetentionPruner> retention_;
  // Signs one-click links (/l/{token}); kept here for everything that mints them.
  std::optional<LinkSigner> link_signer_;
  std::optional<LinkPages> link_pages_;
  std::unique_ptr<TokenRegistry> tokens_;
  std::unique_ptr<TokenAuthenticator> token_auth_;
  OpenAuthenticator open_auth_;
  Authenticator* authenticator_ = nullptr;  // token_auth_ or open_auth_
  std::unique_ptr<Router> router_;
  Metrics metrics_;
  std::unique_ptr<ApiHandlers> api_;
  std::unique_ptr<StreamHandlers> streams_;
  std::unique_ptr<SystemHandlers> system_;
  std::unique_ptr<KeyHandlers> keys_;
  std::unique_ptr<ReceiptHandlers> receipts_;
  // The listener and the signals run on io_ (Run()'s thread); connections on the pool's
  // threads, one io_context each.
  asio::io_context io_{1};
  std::unique_ptr<IoContextPool> connection_pool_;
  std::unique_ptr<HttpServer> http_server_;
  tcp::endpoint bound_;
  std::optional<PublicUrl> public_url_;
  std::unique_ptr<LinkHandlers> links_;
  // The web inbox (/ui/): its pages, its browser sessions and its routes.
  std::optional<UiPages> ui_pages_;
  std::unique_ptr<UiSessionTable> ui_sessions_;
  std::unique_ptr<UiGate> ui_gate_;
  std::unique_ptr<UiHandlers> ui_;
  std::optional<UiAuditPages> ui_audit_pages_;
  std::unique_ptr<AuditVerifyJob> audit_verify_job_;
  std::unique_ptr<UiAuditHandlers> ui_audit_;
  std::unique_ptr<LinkBuilder> link_builder_;
  std::string callback_secret_;
  std::unique_ptr<ChannelSet> channels_;
  std::unique_ptr<OutboxNotifier> notifier_;
  CurlTransport transport_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<HookHandlers> hooks_;
  std::unique_ptr<ClaudeCodeHandlers> claude_code_;
  std::unique_ptr<McpHandlers> mcp_;  // POST /mcp: MCP over Streamable HTTP
  std::unique_ptr<ConversationAssistant> assistant_;
  std::vector<std::unique_ptr<SlackConversationChat>> conversation_chats_;
  std::unique_ptr<SlackEvents> slack_events_;
  std::unique_ptr<ConversationWorker> conversation_worker_;
  std::unique_ptr<ConversationHandlers> conversations_;
  std::vector<std::unique_ptr<SlackSocketMode>> slack_sockets_;
  std::unique_ptr<OutboxHandlers> outbox_;
  // The web inbox's Admin pages: after the channels and the dispatcher they report on.
  std::unique_ptr<UiAdminHandlers> ui_admin_;
  std::unique_ptr<HermesHandlers> hermes_;
  std::optional<MoleculePages> molecule_pages_;
  std::unique_ptr<MoleculeHandlers> molecule_;
  std::unique_ptr<AisocHandlers> aisoc_;
  // Sign-in with OpenID Connect ([ui.oidc]); null without it. Its pool of threads calls the
  // provider through transport_, so it goes first.
  std::unique_ptr<UiOidcHandlers> ui_oidc_;
  // Installed once listening, as the port file is written: until then a signal has its
  // default effect.
  std::optional<asio::signal_set> reload_signal_;
  std::optional<asio::signal_set> stop_signals_;

  bool finished_ = false;  // FinishStop() has run
};

}  // namespace countersign
