#include "cli/serve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "auth/ed25519_receipt_signer.hpp"
#include "auth/link_signer.hpp"
#include "auth/open_authenticator.hpp"
#include "auth/token.hpp"
#include "auth/token_authenticator.hpp"
#include "auth/token_registry.hpp"
#include "cli/server_config.hpp"
#include "compat/aisoc_handlers.hpp"
#include "compat/hermes_handlers.hpp"
#include "compat/molecule_handlers.hpp"
#include "core/public_url.hpp"
#include "core/system_clock.hpp"
#include "engine/event_bus.hpp"
#include "engine/gateway.hpp"
#include "http/api_handlers.hpp"
#include "http/hook_handlers.hpp"
#include "http/http_server.hpp"
#include "http/key_handlers.hpp"
#include "http/link_handlers.hpp"
#include "http/outbox_handlers.hpp"
#include "http/stream_handlers.hpp"
#include "http/system_handlers.hpp"
#include "notify/channel_factory.hpp"
#include "notify/curl_transport.hpp"
#include "notify/dispatcher.hpp"
#include "notify/outbox_notifier.hpp"
#include "notify/webhook_channel.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace countersign {
namespace {

// Writes the first admin token where only the server's user can read it.
Status WriteTokenFile(const std::filesystem::path& path, const std::string& token) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error::Unavailable("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error::Unavailable("cannot write " + path.string());
  return Ok();
}

// Written after listening starts, via rename, so a reader never sees a partial port.
Status WritePortFile(const std::string& path, uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return Error::Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error::Unavailable("cannot write " + path + ": " + ec.message());
  return Ok();
}

// The key that signs POSTs to requests' callback_url: from [outbox] callback_secret, or
// `callback.key` in the data directory, created on first start.
Result<std::string> LoadCallbackSecret(const ServerConfig& config) {
  if (!config.notify.outbox.callback_secret.empty()) return config.notify.outbox.callback_secret;
  const auto path = std::filesystem::path(config.data_dir) / "callback.key";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  secret = GenerateToken();
  const auto staged = std::filesystem::path(path.string() + ".new");
  std::error_code ec;
  std::filesystem::remove(staged, ec);
  CS_RETURN_IF_ERROR(WriteTokenFile(staged, secret));
  std::filesystem::rename(staged, path, ec);
  if (ec) return Error::Unavailable("cannot write " + path.string() + ": " + ec.message());
  spdlog::info("callback signing key written to {} (mode 0600)", path.string());
  return secret;
}

Result<std::unique_ptr<ChannelSet>> BuildChannels(const NotifyConfig& notify,
                                                  const LinkBuilder& links,
                                                  const std::string& callback_secret) {
  auto set = std::make_unique<ChannelSet>();
  for (size_t i = 0; i < notify.channels.size(); ++i) {
    auto channel = MakeChannel(notify.channels[i], links);
    if (!channel.ok()) return std::move(channel).error();
    set->AddChannel(std::move(channel).value(), notify.channel_tenants[i]);
  }
  for (const auto& hook : notify.webhooks) {
    set->AddWebhook(std::make_unique<WebhookChannel>(hook.name, hook.url, hook.secret, hook.events),
                    hook.tenant);
  }
  set->SetCallbacks(std::make_unique<WebhookChannel>("callback", "", callback_secret,
                                                     std::vector<std::string>{}));
  return set;
}

int Fail(const std::string& message) {
  spdlog::error("{}", message);
  return 1;
}

}  // namespace

int Serve(const ServeOptions& options) {
  // The database holds request contents and token hashes, the data directory the admin
  // token: nothing the server creates is for other users to read.
  ::umask(077);
  auto loaded = LoadServerConfig(options);
  if (!loaded.ok()) return Fail("configuration error: " + loaded.error().message);
  const ServerConfig& config = loaded.value();
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Fail("cannot create data directory " + config.data_dir + ": " + ec.message());
  const auto store_dir = std::filesystem::path(config.store_path).parent_path();
  if (!store_dir.empty()) std::filesystem::create_directories(store_dir, ec);
  if (ec) return Fail("cannot create " + store_dir.string() + ": " + ec.message());

  // Declared before the store, so the store's writer thread is gone before the bus is.
  EventBus event_bus(static_cast<size_t>(config.stream_queue));
  SqliteStoreOptions store_options;
  store_options.path = config.store_path;
  auto opened = SqliteStore::Open(store_options);
  if (!opened.ok())
    return Fail("cannot open store " + config.store_path + ": " + opened.error().message);
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  spdlog::info("store: sqlite {}", config.store_path);
  // Live streams (/v1/events, /v1/ws) hear every committed event; registered before the first
  // write.
  store->AddCommitListener(
      [&event_bus](const std::vector<Event>& events) { event_bus.Publish(events); });

  SystemClock clock;
  GatewayOptions gateway_options;
  gateway_options.rate_per_principal = config.limits.per_principal;
  gateway_options.principal_window = config.limits.principal_window;
  gateway_options.rate_per_action = config.limits.per_action;
  gateway_options.action_window = config.limits.action_window;
  gateway_options.default_timeout = config.default_timeout;
  auto signer = Ed25519ReceiptSigner::LoadOrCreate(config.data_dir);
  if (!signer.ok()) return Fail(signer.error().message);
  Gateway gateway(*store, clock, gateway_options, signer->get());
  // Signs one-click links (/l/{token}); kept here for everything that mints them.
  auto link_signer = LinkSigner::LoadOrCreate(config.data_dir);
  if (!link_signer.ok()) return Fail(link_signer.error().message);
  auto link_pages = LinkPages::Load();
  if (!link_pages.ok()) return Fail(link_pages.error().message);
  gateway.SetPolicies(config.policies);
  // Status reads of recent requests skip SQLite. Small: each cached request is a few KB, and
  // thousands of long-polls each read their own request.
  gateway.EnableReadCache(1024);
  spdlog::info("policies: {} from {}", config.policies->policies().size(),
               options.config ? *options.config : std::string("(no config file)"));
  TokenRegistry tokens(*store, clock, gateway.ids());

  if (config.auth) {
    auto needed = tokens.NeedsBootstrapAdmin();
    if (!needed.ok()) return Fail("cannot read principals: " + needed.error().message);
    if (needed.value()) {
      // Secret on disk first, then the principal, then the rename that publishes the file:
      // a crash at any point leaves either no admin or an admin whose token is saved.
      const auto path = std::filesystem::path(config.data_dir) / "admin.token";
      const auto staged = std::filesystem::path(path.string() + ".new");
      const std::string token = GenerateToken();
      std::filesystem::remove(staged, ec);
      Status written = WriteTokenFile(staged, token);
      if (!written.ok()) return Fail(written.error().message);
      Status recorded = tokens.BootstrapAdmin(token);
      if (!recorded.ok()) {
        std::filesystem::remove(staged, ec);
        return Fail("cannot create the admin token: " + recorded.error().message);
      }
      std::filesystem::rename(staged, path, ec);
      if (ec) return Fail("cannot write " + path.string() + ": " + ec.message());
      spdlog::info("no active admin: new admin token written to {} (mode 0600)", path.string());
    }
  } else {
    spdlog::warn("auth is OFF: anyone who can reach {} acts as any name they give; loopback only",
                 config.listen_host);
  }

  TokenAuthenticator token_auth(*store, clock);
  tokens.OnRevoked([&token_auth] { token_auth.Forget(); });
  OpenAuthenticator open_auth;
  Authenticator& authenticator = config.auth ? static_cast<Authenticator&>(token_auth)
                                             : static_cast<Authenticator&>(open_auth);
  Router router(authenticator);
  Metrics metrics;
  ApiOptions api_options;
  api_options.auth_off = !config.auth;
  ApiHandlers api(gateway, tokens, metrics, api_options);
  api.Register(router);
  StreamHandlers streams(gateway, event_bus);
  streams.Register(router);
  SystemHandlers system(gateway, metrics);
  system.Register(router);
  KeyHandlers keys(**signer);
  keys.Register(router);

  const int threads = config.threads > 0
                          ? config.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // The listener and the signals run on `io` (this thread); connections on the pool's
  // threads, one io_context each.
  asio::io_context io(1);
  IoContextPool connection_pool(threads);
  HttpServerOptions server_options;
  server_options.connection_pool = &connection_pool;
  server_options.body_limit = config.body_limit;
  server_options.tls_cert_file = config.tls_cert;
  server_options.tls_key_file = config.tls_key;
  server_options.stream_heartbeat = config.stream_heartbeat;
  HttpServer server(io, router, metrics, server_options);
  boost::system::error_code address_ec;
  const std::string host = config.listen_host == "localhost" ? "127.0.0.1" : config.listen_host;
  auto address = asio::ip::make_address(host, address_ec);
  if (address_ec) return Fail("--listen: '" + config.listen_host + "' is not an IP address");
  auto bound = server.Listen(tcp::endpoint(address, config.listen_port));
  if (!bound.ok()) return Fail(bound.error().message);
  // With no public_url set, links point at the address actually bound (port 0 included).
  const PublicUrl public_url = [&] {
    if (!config.public_url.empty())
      return PublicUrl::Parse(config.public_url, "public_url").value();
    return PublicUrl::ForListener(bound->address().to_string(), bound->port(), server.tls());
  }();
  if (config.public_url.empty() && bound->address().is_unspecified()) {
    spdlog::warn("links will point at {}: set [server] public_url to the address people use",
                 public_url.text());
  }
  spdlog::info("one-click links: {}/l/...", public_url.text());
  LinkHandlers links(gateway, link_signer.value(), link_pages.value(), metrics, public_url);
  links.Register(router);

  // Channels render links, so they are built once the public URL is known; the notifier is
  // in place before the scheduler can expire anything.
  LinkBuilder link_builder(public_url.text(), link_signer.value());
  auto callback_secret = LoadCallbackSecret(config);
  if (!callback_secret.ok()) return Fail(callback_secret.error().message);
  auto channels = BuildChannels(config.notify, link_builder, callback_secret.value());
  if (!channels.ok()) return Fail("configuration error: " + channels.error().message);
  // Email mails each approver: the notifier expands "group:NAME" with the policies in force.
  OutboxNotifier notifier(*channels.value(), gateway.ids(), [&gateway](std::string_view group) {
    return gateway.Policies()->Members(group);
  });
  gateway.SetNotifier(&notifier);
  CurlTransport transport;
  DispatcherOptions dispatch_options;
  dispatch_options.max_attempts = config.notify.outbox.max_attempts;
  dispatch_options.retry_base = config.notify.outbox.retry_base;
  dispatch_options.retry_max = config.notify.outbox.retry_max;
  dispatch_options.call_timeout = config.notify.outbox.call_timeout;
  dispatch_options.per_destination = config.notify.outbox.concurrency;
  dispatch_options.workers = config.notify.outbox.workers;
  Dispatcher dispatcher(*store, clock, transport, *channels.value(), dispatch_options);
  store->AddCommitListener([&dispatcher, &notifier](const std::vector<Event>&) {
    if (notifier.TakeEnqueued()) dispatcher.Wake();
  });
  dispatcher.Start();
  HookHandlers hooks(gateway, *channels.value(), config.notify.identities, &metrics);
  hooks.Register(router);
  OutboxHandlers outbox(*store);
  outbox.Register(router);
  // The seed systems' wire APIs: each adapter answers 404 until its [compat.*] table enables
  // it. The Hermes adapter's lines go first, Molecule's second, AiSOC's last.
  HermesHandlers hermes(gateway, authenticator, metrics, config.compat.hermes, config.auth,
                        public_url);
  hermes.Register(router, bound->address().is_loopback());
  auto molecule_pages = MoleculePages::Load(link_pages.value());
  if (!molecule_pages.ok()) return Fail(molecule_pages.error().message);
  MoleculeHandlers molecule(gateway, event_bus, authenticator, molecule_pages.value(), metrics,
                            public_url, config.compat.molecule, config.auth);
  molecule.Register(router, bound->address().is_loopback());
  AisocServerFacts aisoc_facts;
  aisoc_facts.auth_on = config.auth;
  aisoc_facts.callback_secret = callback_secret.value();
  aisoc_facts.call_timeout = config.notify.outbox.call_timeout;
  AisocHandlers aisoc(gateway, authenticator, links, link_signer.value(), transport, public_url,
                      config.compat.aisoc, std::move(aisoc_facts));
  aisoc.Register(router, bound->address().is_loopback());
  spdlog::info("channels: {} configured, {} webhook subscriptions",
               channels.value()->channels().size(), channels.value()->webhooks().size());

  Status started = gateway.Start();
  if (!started.ok()) return Fail("cannot load pending deadlines: " + started.error().message);
  server.Start();
  spdlog::info("countersign listening on {}://{}:{} ({} threads, auth {})",
               server.tls() ? "https" : "http", bound->address().to_string(), bound->port(),
               threads, config.auth ? "on" : "off");
  if (!config.port_file.empty()) {
    Status written = WritePortFile(config.port_file, bound->port());
    if (!written.ok()) return Fail(written.error().message);
  }

  // SIGHUP re-reads the policies (and checks the whole file first); a bad file keeps the
  // policies in force and says which key on which line is wrong.
  asio::signal_set reload(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_reload =
      [&](const boost::system::error_code& error, int) {
        if (error) return;
        if (!options.config) {
          spdlog::warn("SIGHUP: no --config file to reload");
        } else {
          auto reloaded = LoadConfigFile(*options.config);
          if (!reloaded.ok()) {
            spdlog::error("SIGHUP: keeping the current policies: {}", reloaded.error().message);
          } else {
            gateway.SetPolicies(reloaded->policies);
            spdlog::info("SIGHUP: reloaded {} policies from {}",
                         reloaded->policies->policies().size(), *options.config);
          }
        }
        reload.async_wait(on_reload);
      };
  reload.async_wait(on_reload);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    spdlog::info("signal {}: shutting down (finishing in-flight requests)", signal_number);
    server.Shutdown();
    boost::system::error_code ignored;
    reload.cancel(ignored);
    // Waiting long-polls answer with the current state; the scheduler stops.
    gateway.Stop();
    // Each connection thread ends once its connections have.
    connection_pool.Release();
  });

  connection_pool.Start();
  io.run();
  connection_pool.Join();

  dispatcher.Stop();
  store->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace countersign
