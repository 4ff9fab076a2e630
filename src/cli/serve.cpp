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
#include "auth/open_authenticator.hpp"
#include "auth/token.hpp"
#include "auth/token_authenticator.hpp"
#include "auth/token_registry.hpp"
#include "cli/server_config.hpp"
#include "core/system_clock.hpp"
#include "engine/gateway.hpp"
#include "http/api_handlers.hpp"
#include "http/http_server.hpp"
#include "http/key_handlers.hpp"
#include "http/system_handlers.hpp"
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

  SqliteStoreOptions store_options;
  store_options.path = config.store_path;
  auto opened = SqliteStore::Open(store_options);
  if (!opened.ok())
    return Fail("cannot open store " + config.store_path + ": " + opened.error().message);
  std::unique_ptr<SqliteStore> store = std::move(opened).value();
  spdlog::info("store: sqlite {}", config.store_path);

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
  gateway.SetPolicies(config.policies);
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

  Status started = gateway.Start();
  if (!started.ok()) return Fail("cannot load pending deadlines: " + started.error().message);

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
  SystemHandlers system(gateway, metrics);
  system.Register(router);
  KeyHandlers keys(**signer);
  keys.Register(router);

  const int threads = config.threads > 0
                          ? config.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  asio::io_context io(threads);
  HttpServerOptions server_options;
  server_options.body_limit = config.body_limit;
  server_options.tls_cert_file = config.tls_cert;
  server_options.tls_key_file = config.tls_key;
  HttpServer server(io, router, metrics, server_options);
  boost::system::error_code address_ec;
  const std::string host = config.listen_host == "localhost" ? "127.0.0.1" : config.listen_host;
  auto address = asio::ip::make_address(host, address_ec);
  if (address_ec) return Fail("--listen: '" + config.listen_host + "' is not an IP address");
  auto bound = server.Listen(tcp::endpoint(address, config.listen_port));
  if (!bound.ok()) return Fail(bound.error().message);
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
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();

  store->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace countersign
