#include "server/server.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "auth/token.hpp"
#include "config/duration.hpp"
#include "core/counted_noun.hpp"
#include "engine/model_assistant.hpp"
#include "engine/template_assistant.hpp"
#include "http/access_log.hpp"
#include "notify/channel_factory.hpp"
#include "notify/webhook_channel.hpp"
#include "server/data_files.hpp"
#include "server/open_file_limit.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace countersign {

Result<std::unique_ptr<Server>> Server::Start(ServerConfig config, ServeOptions options) {
  std::unique_ptr<Server> server(new Server(std::move(config), std::move(options)));
  CS_RETURN_IF_ERROR(server->Open());
  return server;
}

Server::Server(ServerConfig config, ServeOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      threads_(config_.threads > 0
                   ? config_.threads
                   : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
      event_bus_(static_cast<size_t>(config_.stream_queue)),
      transport_(config_.notify.outbound) {}

Server::~Server() {
  if (finished_) return;
  BeginStop();
  FinishStop();
}

Status Server::Open() {
  CS_RETURN_IF_ERROR(OpenStore());

  GatewayOptions gateway_options;
  gateway_options.rate_per_principal = config_.limits.per_principal;
  gateway_options.principal_window = config_.limits.principal_window;
  gateway_options.rate_per_action = config_.limits.per_action;
  gateway_options.action_window = config_.limits.action_window;
  gateway_options.max_pending_per_principal = config_.limits.max_pending_per_principal;
  gateway_options.idempotency_ttl = config_.limits.idempotency_ttl;
  gateway_options.default_timeout = config_.default_timeout;
  gateway_options.replicas = !config_.store_url.empty();
  auto receipt_signer = Ed25519ReceiptSigner::LoadOrCreate(config_.data_dir);
  if (!receipt_signer.ok()) return std::move(receipt_signer).error();
  receipt_signer_ = std::move(receipt_signer).value();
  // Approvals sign their receipts on the single writer; with nonces made ahead on idle cores a
  // signature costs the writer about 1.5 instead of 17 us (auth/ed25519_nonce_pool.hpp). 4,096
  // of them are 256 KiB, about half a second of approvals at full speed.
  auto nonce_pool = std::make_unique<Ed25519NoncePool>(4096);
  nonce_pool->Start();
  receipt_signer_->UseNoncePool(std::move(nonce_pool));
  gateway_ = std::make_unique<Gateway>(*store_, clock_, gateway_options, receipt_signer_.get());
  auto link_signer = LinkSigner::LoadOrCreate(config_.data_dir);
  if (!link_signer.ok()) return std::move(link_signer).error();
  link_signer_.emplace(std::move(link_signer).value());
  auto link_pages = LinkPages::Load();
  if (!link_pages.ok()) return std::move(link_pages).error();
  link_pages_.emplace(std::move(link_pages).value());
  gateway_->SetPolicies(config_.policies);
  // Status reads of recent requests skip SQLite. Small: each cached request is a few KB, and
  // thousands of long-polls each read their own request.
  gateway_->EnableReadCache(1024);
  // Live streams (/v1/events, /v1/ws) hear every committed event, after the cache has dropped
  // what it changed; subscribed before the first write.
  gateway_->changes().Subscribe(
      "event bus", [this](const std::vector<Event>& events) { event_bus_.Publish(events); });
  spdlog::info("policies: {} from {}", config_.policies->policies().size(),
               config_.config_file.empty() ? std::string("(no config file)") : config_.config_file);
  tokens_ = std::make_unique<TokenRegistry>(*store_, clock_, ids_);
  CS_RETURN_IF_ERROR(BootstrapAdmin());

  token_auth_ = std::make_unique<TokenAuthenticator>(*store_, clock_);
  tokens_->OnRevoked([this] { token_auth_->Forget(); });
  // A token revoked through another replica sharing the store, heard on the change feed.
  gateway_->changes().Subscribe("revoked tokens", [this](const std::vector<Event>& events) {
    for (const Event& e : events) {
      if (e.type == "token.revoked") token_auth_->Forget();
    }
  });
  authenticator_ = config_.auth ? static_cast<Authenticator*>(token_auth_.get()) : &open_auth_;
  router_ = std::make_unique<Router>(*authenticator_, gateway_.get());
  ApiOptions api_options;
  api_options.auth_off = !config_.auth;
  api_options.outbound = config_.notify.outbound;
  api_ = std::make_unique<ApiHandlers>(*gateway_, *tokens_, metrics_, api_options);
  api_->Register(*router_);
  streams_ = std::make_unique<StreamHandlers>(*gateway_, event_bus_);
  streams_->Register(*router_);
  system_ = std::make_unique<SystemHandlers>(*gateway_, metrics_, config_.metrics_auth);
  system_->SetNoncePool(receipt_signer_->nonce_pool());
  system_->Register(*router_);
  keys_ = std::make_unique<KeyHandlers>(*receipt_signer_);
  keys_->Register(*router_);
  receipts_ = std::make_unique<ReceiptHandlers>(*gateway_);
  receipts_->Register(*router_);

  CS_RETURN_IF_ERROR(Listen());
  // Links are made once the public URL is known; each approver group is expanded with the
  // policies in force when the link is made.
  link_builder_ = std::make_unique<LinkBuilder>(
      public_url_->text(), *link_signer_,
      [this](std::string_view group) { return gateway_->Policies()->Members(group); });
  links_ = std::make_unique<LinkHandlers>(*gateway_, clock_, *link_signer_, *link_builder_,
                                          *link_pages_, metrics_, *public_url_);
  links_->Register(*router_);
  auto ui_pages = UiPages::Load(*link_pages_, public_url_->path());
  if (!ui_pages.ok()) return std::move(ui_pages).error();
  ui_pages_.emplace(std::move(ui_pages).value());
  ui_sessions_ = std::make_unique<UiSessionTable>(clock_);
  ui_gate_ = std::make_unique<UiGate>(*gateway_, *authenticator_, *ui_sessions_, *ui_pages_,
                                      *public_url_, config_.oidc.has_value());
  ui_ = std::make_unique<UiHandlers>(*gateway_, event_bus_, *authenticator_, *ui_gate_, metrics_);
  ui_->Register(*router_);
  if (config_.oidc) {
    // The provider is called through the one outbound path: a loopback or internal issuer
    // must be allowed in [outbound], and saying so now beats a failed first sign-in.
    CS_RETURN_IF_ERROR(config_.notify.outbound.CheckUrl("[ui.oidc] issuer", config_.oidc->issuer));
    ui_oidc_ = std::make_unique<UiOidcHandlers>(*ui_gate_, *config_.oidc, transport_, clock_);
    ui_oidc_->Register(*router_);
    spdlog::info("inbox: sign-in with OpenID Connect at {} (redirect URI {}/ui/oidc/callback)",
                 config_.oidc->issuer, public_url_->text());
  }
  auto ui_audit_pages = UiAuditPages::Load(*ui_pages_);
  if (!ui_audit_pages.ok()) return std::move(ui_audit_pages).error();
  ui_audit_pages_.emplace(std::move(ui_audit_pages).value());
  audit_verify_job_ = std::make_unique<AuditVerifyJob>(*gateway_, clock_);
  ui_audit_ =
      std::make_unique<UiAuditHandlers>(*gateway_, *ui_gate_, *ui_audit_pages_, *audit_verify_job_);
  ui_audit_->Register(*router_);

  CS_RETURN_IF_ERROR(BuildChannels());
  // Email mails each approver: the notifier expands "group:NAME" with the policies in force.
  notifier_ = std::make_unique<OutboxNotifier>(
      *channels_, ids_,
      [this](std::string_view group) { return gateway_->Policies()->Members(group); },
      link_builder_.get());
  gateway_->SetNotifier(notifier_.get());
  AuditSealerOptions seal_options;
  seal_options.every_events = config_.audit_checkpoint_every;
  seal_options.interval = config_.audit_checkpoint_interval;
  sealer_ =
      std::make_unique<AuditSealer>(*store_, gateway_->alarms(), *receipt_signer_, seal_options);
  sealer_->SetNotifier(notifier_.get());
  RetentionOptions retention_options;
  retention_options.resolved_after = config_.retention_resolved_after;
  retention_options.interval = config_.retention_interval;
  retention_ = std::make_unique<RetentionPruner>(*store_, gateway_->alarms(), retention_options);
  // A signed checkpoint at once covers the record of what was removed.
  retention_->SetOnPruned([this] { sealer_->SealNow({}); });
  DispatcherOptions dispatch_options;
  dispatch_options.max_attempts = config_.notify.outbox.max_attempts;
  dispatch_options.retry_base = config_.notify.outbox.retry_base;
  dispatch_options.retry_max = config_.notify.outbox.retry_max;
  dispatch_options.call_timeout = config_.notify.outbox.call_timeout;
  dispatch_options.per_destination = config_.notify.outbox.concurrency;
  dispatch_options.workers = config_.notify.outbox.workers;
  dispatcher_ =
      std::make_unique<Dispatcher>(*store_, clock_, transport_, *channels_, dispatch_options);
  gateway_->changes().Subscribe("outbox dispatcher", [this](const std::vector<Event>&) {
    if (notifier_->TakeEnqueued()) dispatcher_->Wake();
  });
  dispatcher_->Start();
  hooks_ = std::make_unique<HookHandlers>(*gateway_, clock_, *channels_, config_.notify.identities,
                                          &metrics_);
  hooks_->Register(*router_);
  ClaudeCodeOptions claude_code_options;
  claude_code_options.auth_off = !config_.auth;
  claude_code_ = std::make_unique<ClaudeCodeHandlers>(*gateway_, *authenticator_, metrics_,
                                                      claude_code_options);
  claude_code_->Register(*router_);
  McpHttpOptions mcp_options;
  mcp_options.auth_off = !config_.auth;
  mcp_options.progress_interval = config_.mcp_progress;
  mcp_options.public_origin = public_url_->origin();
  mcp_options.loopback_listener = bound_.address().is_loopback();
  mcp_ = std::make_unique<McpHandlers>(*gateway_, *authenticator_, metrics_, mcp_options);
  mcp_->Register(*router_);
  CS_RETURN_IF_ERROR(OpenConversations());
  outbox_ = std::make_unique<OutboxHandlers>(*gateway_, [this] { dispatcher_->Wake(); });
  outbox_->Register(*router_);
  // The inbox's Admin pages report on the channels and wake the dispatcher, so they come once
  // both exist.
  auto ui_admin_pages = UiAdminPages::Load(*ui_pages_);
  if (!ui_admin_pages.ok()) return std::move(ui_admin_pages).error();
  UiAdminOptions ui_admin_options;
  ui_admin_options.default_timeout = config_.default_timeout;
  ui_admin_options.wake_dispatcher = [this] { dispatcher_->Wake(); };
  ui_admin_ = std::make_unique<UiAdminHandlers>(*gateway_, *tokens_, *ui_gate_, *channels_, clock_,
                                                std::move(ui_admin_pages).value(),
                                                std::move(ui_admin_options));
  ui_admin_->Register(*router_);

  // The seed systems' wire APIs: each adapter answers 404 until its [compat.*] table enables
  // it. The Hermes adapter's lines go first, Molecule's second, AiSOC's last.
  const bool loopback = bound_.address().is_loopback();
  hermes_ = std::make_unique<HermesHandlers>(*gateway_, clock_, *authenticator_, metrics_,
                                             config_.compat.hermes, config_.auth, *public_url_);
  hermes_->Register(*router_, loopback);
  auto molecule_pages = MoleculePages::Load(*link_pages_);
  if (!molecule_pages.ok()) return std::move(molecule_pages).error();
  molecule_pages_.emplace(std::move(molecule_pages).value());
  molecule_ = std::make_unique<MoleculeHandlers>(*gateway_, clock_, event_bus_, *authenticator_,
                                                 *molecule_pages_, metrics_, *public_url_,
                                                 config_.compat.molecule, config_.auth);
  molecule_->Register(*router_, loopback);
  AisocServerFacts aisoc_facts;
  aisoc_facts.auth_on = config_.auth;
  aisoc_facts.callback_secret = callback_secret_;
  aisoc_facts.call_timeout = config_.notify.outbox.call_timeout;
  aisoc_ = std::make_unique<AisocHandlers>(*gateway_, clock_, ids_, *authenticator_, *links_,
                                           *link_signer_, transport_, *public_url_,
                                           config_.compat.aisoc, std::move(aisoc_facts));
  aisoc_->Register(*router_, loopback);
  spdlog::info(
      "channels: {} configured, {}", channels_->channels().size(),
      CountedNoun(static_cast<int64_t>(channels_->webhooks().size()), "webhook subscription"));

  Status started = gateway_->Start();
  if (!started.ok()) {
    return Error::Unavailable("cannot load pending deadlines: " + started.error().message);
  }
  sealer_->Start(gateway_->changes());
  retention_->Start();
  if (config_.retention_resolved_after.count() > 0) {
    spdlog::info("retention: requests resolved more than {} ago are removed, checked every {}",
                 DurationText(config_.retention_resolved_after),
                 DurationText(config_.retention_interval));
  }
  conversation_worker_->Start();
  for (auto& socket : slack_sockets_) socket->Start();
  http_server_->Start();
  spdlog::info("countersign listening on {}://{}:{} ({}, auth {})",
               http_server_->tls() ? "https" : "http", bound_.address().to_string(), bound_.port(),
               CountedNoun(threads_, "thread"), config_.auth ? "on" : "off");
  HandleSignals();
  if (!config_.port_file.empty())
    CS_RETURN_IF_ERROR(WritePortFile(config_.port_file, bound_.port()));
  return Ok();
}

// The directories first: the database holds request contents and token hashes, the data
// directory the keys, so both exist before anything is written.
Status Server::OpenStore() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) {
    return Error::Unavailable("cannot create data directory " + config_.data_dir + ": " +
                              ec.message());
  }
  if (!config_.store_url.empty()) {
    PgStoreOptions pg;
    pg.url = config_.store_url;
    auto opened = PgStore::Open(pg);
    if (!opened.ok()) {
      return Error::Unavailable("cannot open store " + RedactedStoreUrl(config_.store_url) + ": " +
                                opened.error().message);
    }
    store_ = std::move(opened).value();
    spdlog::info("store: postgres {}", RedactedStoreUrl(config_.store_url));
    return Ok();
  }
  const auto store_dir = std::filesystem::path(config_.store_path).parent_path();
  if (!store_dir.empty()) std::filesystem::create_directories(store_dir, ec);
  if (ec) return Error::Unavailable("cannot create " + store_dir.string() + ": " + ec.message());
  SqliteStoreOptions store_options;
  store_options.path = config_.store_path;
  store_options.vfs = config_.sqlite_vfs;
  store_options.check_integrity = config_.integrity_check;
  store_options.head_file = config_.store_path + ".audit-head";
  store_options.accept_audit_gap = config_.accept_audit_gap;
  auto opened = SqliteStore::Open(store_options);
  if (!opened.ok()) {
    return Error::Unavailable("cannot open store " + config_.store_path + ": " +
                              opened.error().message);
  }
  store_ = std::move(opened).value();
  spdlog::info("store: sqlite {}", config_.store_path);
  return Ok();
}

Status Server::BootstrapAdmin() {
  if (!config_.auth) {
    spdlog::warn("auth is OFF: anyone who can reach {} acts as any name they give; loopback only",
                 config_.listen_host);
    return Ok();
  }
  auto needed = tokens_->NeedsBootstrapAdmin();
  if (!needed.ok()) return Error::Unavailable("cannot read principals: " + needed.error().message);
  if (!needed.value()) return Ok();
  // Secret on disk first, then the principal, then the rename that publishes the file: a
  // crash at any point leaves either no admin or an admin whose token is saved.
  const auto path = std::filesystem::path(config_.data_dir) / "admin.token";
  const auto staged = std::filesystem::path(path.string() + ".new");
  const std::string token = GenerateToken();
  std::error_code ec;
  std::filesystem::remove(staged, ec);
  CS_RETURN_IF_ERROR(WriteSecretFile(staged, token));
  Status recorded = tokens_->BootstrapAdmin(token);
  if (!recorded.ok()) {
    std::filesystem::remove(staged, ec);
    return Error::Unavailable("cannot create the admin token: " + recorded.error().message);
  }
  std::filesystem::rename(staged, path, ec);
  if (ec) return Error::Unavailable("cannot write " + path.string() + ": " + ec.message());
  spdlog::info("no active admin: new admin token written to {} (mode 0600)", path.string());
  return Ok();
}

Status Server::Listen() {
  connection_pool_ = std::make_unique<IoContextPool>(threads_);
  HttpServerOptions server_options;
  server_options.connection_pool = connection_pool_.get();
  server_options.body_limit = config_.body_limit;
  server_options.tls_cert_file = config_.tls_cert;
  server_options.tls_key_file = config_.tls_key;
  server_options.stream_heartbeat = config_.stream_heartbeat;
  if (config_.access_log) {
    // The default logger's sinks, format and level, under its own name.
    server_options.access_log = spdlog::default_logger()->clone(AccessLog::kLoggerName);
  }
  const uint64_t open_files = RaiseOpenFileLimit();
  server_options.max_connections = config_.limits.max_connections > 0
                                       ? static_cast<size_t>(config_.limits.max_connections)
                                       : DefaultMaxConnections(open_files);
  server_options.max_connections_per_ip =
      static_cast<size_t>(config_.limits.max_connections_per_ip);
  if (server_options.max_connections_per_ip > 0) {
    spdlog::info("connections: at most {}, {} from any one address", server_options.max_connections,
                 server_options.max_connections_per_ip);
  } else {
    spdlog::info("connections: at most {}", server_options.max_connections);
  }
  if (!config_.auth) {
    // Loopback hosts only, and the public_url's: a web page must not reach the open server.
    std::vector<std::string> extra_hosts;
    if (!config_.public_url.empty()) {
      const PublicUrl url = PublicUrl::Parse(config_.public_url, "public_url").value();
      const std::string host = HostGuard::HostOf(url.origin().substr(url.origin().find("://") + 3));
      if (!HostGuard::IsLoopbackHost(host)) {
        spdlog::warn(
            "auth is OFF but public_url {} is not a loopback address: whoever reaches that URL "
            "(through a proxy) acts as any name they give. Turn auth on for anything shared.",
            config_.public_url);
        extra_hosts.push_back(host);
      }
    }
    server_options.host_guard.emplace(std::move(extra_hosts));
  }
  http_server_ =
      std::make_unique<HttpServer>(io_, *router_, metrics_, gateway_->alarms(), server_options);
  boost::system::error_code address_ec;
  const std::string host = config_.listen_host == "localhost" ? "127.0.0.1" : config_.listen_host;
  auto address = asio::ip::make_address(host, address_ec);
  if (address_ec) {
    return Error::Invalid("--listen: '" + config_.listen_host + "' is not an IP address");
  }
  auto bound = http_server_->Listen(tcp::endpoint(address, config_.listen_port));
  if (!bound.ok()) return std::move(bound).error();
  bound_ = bound.value();
  // With no public_url set, links point at the address actually bound (port 0 included).
  if (!config_.public_url.empty()) {
    public_url_.emplace(PublicUrl::Parse(config_.public_url, "public_url").value());
  } else {
    public_url_.emplace(
        PublicUrl::ForListener(bound_.address().to_string(), bound_.port(), http_server_->tls()));
  }
  if (config_.public_url.empty() && bound_.address().is_unspecified()) {
    spdlog::warn("links will point at {}: set [server] public_url to the address people use",
                 public_url_->text());
  }
  spdlog::info("one-click links: {}/l/...", public_url_->text());
  return Ok();
}

// Channels render links, so they are built once the public URL is known (after Listen()); the
// notifier is in place before the scheduler can expire anything.
Status Server::BuildChannels() {
  auto callback_secret =
      LoadCallbackSecret(config_.notify.outbox.callback_secret, config_.data_dir);
  if (!callback_secret.ok()) return std::move(callback_secret).error();
  callback_secret_ = std::move(callback_secret).value();
  const NotifyConfig& notify = config_.notify;
  channels_ = std::make_unique<ChannelSet>();
  for (size_t i = 0; i < notify.channels.size(); ++i) {
    auto channel = MakeChannel(notify.channels[i], *link_builder_, clock_);
    if (!channel.ok()) return Error::Invalid("configuration error: " + channel.error().message);
    channels_->AddChannel(std::move(channel).value(), notify.channel_tenants[i]);
  }
  for (const auto& hook : notify.webhooks) {
    channels_->AddWebhook(
        std::make_unique<WebhookChannel>(hook.name, hook.url, hook.secret, hook.events, clock_,
                                         hook.links ? link_builder_.get() : nullptr),
        hook.tenant);
  }
  // A callback_url is the requester's: it hears only terminal events, and never a link.
  channels_->SetCallbacks(std::make_unique<WebhookChannel>("callback", "", callback_secret_,
                                                           std::vector<std::string>{}, clock_));
  return Ok();
}

void Server::Run() {
  connection_pool_->Start();
  io_.run();
  FinishStop();
  spdlog::info("stopped cleanly");
}

void Server::Stop() {
  asio::post(io_, [this] { BeginStop(); });
}

void Server::Reload(const ServerConfig& fresh) {
  gateway_->SetPolicies(fresh.policies);
  spdlog::info(
      "SIGHUP: reloaded {} from {}",
      CountedNoun(static_cast<int64_t>(fresh.policies->policies().size()), "policy", "policies"),
      fresh.config_file);
}

std::shared_ptr<const PolicySet> Server::policies() const { return gateway_->Policies(); }

void Server::HandleSignals() {
  reload_signal_.emplace(io_, SIGHUP);
  WaitForReloadSignal();
  stop_signals_.emplace(io_, SIGINT, SIGTERM);
  stop_signals_->async_wait([this](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    spdlog::info("signal {}: shutting down (finishing in-flight requests)", signal_number);
    BeginStop();
  });
}

void Server::WaitForReloadSignal() {
  reload_signal_->async_wait([this](const boost::system::error_code& error, int) {
    if (error) return;
    OnReloadSignal();
    WaitForReloadSignal();
  });
}

// SIGHUP re-reads the configuration (and checks all of it first); a bad file keeps the
// policies in force and says which key on which line is wrong.
void Server::OnReloadSignal() {
  if (config_.config_file.empty()) {
    spdlog::warn("SIGHUP: no --config file to reload");
    return;
  }
  auto fresh = LoadServerConfig(options_);
  if (!fresh.ok()) {
    spdlog::error("SIGHUP: keeping the current policies: {}", fresh.error().message);
    return;
  }
  Reload(fresh.value());
}

// Steps 1-4 of the stop sequence (server.hpp).
void Server::BeginStop() {
  if (http_server_) http_server_->Shutdown();
  boost::system::error_code ignored;
  if (reload_signal_) reload_signal_->cancel(ignored);
  if (stop_signals_) stop_signals_->cancel(ignored);
  if (sealer_) sealer_->Stop();
  if (retention_) retention_->Stop();
  for (auto& socket : slack_sockets_) socket->Stop();
  if (conversation_worker_) conversation_worker_->Stop();
  if (gateway_) gateway_->Stop();
  if (connection_pool_) connection_pool_->Release();
}

// Steps 5-8.
void Server::FinishStop() {
  if (finished_) return;
  finished_ = true;
  if (connection_pool_) connection_pool_->Join();
  if (gateway_) gateway_->StopReads();
  if (dispatcher_) dispatcher_->Stop();
  if (store_) store_->Stop();
}

Status Server::OpenConversations() {
  const ConversationConfig& settings = config_.conversations;
  if (settings.llm) {
    CS_RETURN_IF_ERROR(
        config_.notify.outbound.CheckUrl("[llm] base_url", settings.llm->client.base_url));
    ModelPrompts prompts = ModelPrompts::Defaults();
    const auto take = [](std::string& into, const std::string& given) {
      if (!given.empty()) into = given;
    };
    take(prompts.greeting, settings.llm->greeting_prompt);
    take(prompts.judge, settings.llm->judge_prompt);
    take(prompts.nudge, settings.llm->nudge_prompt);
    take(prompts.summary, settings.llm->summary_prompt);
    assistant_ = std::make_unique<ModelAssistant>(
        ChatCompletionsClient(settings.llm->client, transport_), std::move(prompts));
    spdlog::info("conversations: judged by model {} at {}", settings.llm->client.model,
                 settings.llm->client.base_url);
  } else {
    assistant_ = std::make_unique<TemplateAssistant>();
  }
  std::map<std::string, ConversationChat*> chats;
  std::vector<std::pair<std::string, std::string>> chat_tenants;
  std::string first;
  for (const auto* entry : channels_->OfType("slack")) {
    const auto* slack = dynamic_cast<const SlackChannel*>(entry->channel.get());
    if (!slack || slack->mode() != SlackChannel::Mode::kWebApi) continue;
    conversation_chats_.push_back(std::make_unique<SlackConversationChat>(*slack, transport_));
    chats[slack->name()] = conversation_chats_.back().get();
    chat_tenants.emplace_back(slack->name(), entry->tenant);
    if (first.empty()) first = slack->name();
  }
  SlackEventsOptions event_options;
  event_options.max_message_bytes = settings.max_message_bytes;
  event_options.messages_per_minute = settings.messages_per_minute;
  slack_events_ = std::make_unique<SlackEvents>(*gateway_, clock_, config_.notify.identities,
                                                assistant_->judges(), event_options);
  hooks_->SetSlackEvents(slack_events_.get());
  conversation_worker_ = std::make_unique<ConversationWorker>(*gateway_, *store_, clock_,
                                                              std::move(chats), first, *assistant_);
  gateway_->SetConversationListener([worker = conversation_worker_.get()] { worker->Poke(); });
  conversations_ = std::make_unique<ConversationHandlers>(
      *gateway_, metrics_, config_.notify.identities, config_.notify.outbound, !config_.auth,
      std::move(chat_tenants));
  conversations_->Register(*router_);
  std::vector<const SlackSocketMode*> sockets;
  for (const auto* entry : channels_->OfType("slack")) {
    const auto* slack = dynamic_cast<const SlackChannel*>(entry->channel.get());
    if (!slack || !slack->socket_mode()) continue;
    SlackSocketModeOptions socket_options;
    socket_options.idle_timeout = slack->socket_idle_timeout();
    slack_sockets_.push_back(std::make_unique<SlackSocketMode>(
        *slack, entry->tenant, transport_, config_.notify.outbound, *slack_events_,
        [this](const SlackChannel& channel, const std::string& tenant, ChannelCallback press) {
          hooks_->OfferSocketPress(channel, tenant, std::move(press));
        },
        socket_options));
    sockets.push_back(slack_sockets_.back().get());
  }
  system_->SetSlackSockets(std::move(sockets));
  return Ok();
}

}  // namespace countersign
