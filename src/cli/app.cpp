#include "cli/app.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/client_commands.hpp"
#include "cli/exec_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/link_command.hpp"
#include "cli/serve.hpp"
#include "cli/telegram_command.hpp"

namespace countersign {
namespace {

constexpr const char* kVersion = "countersign 0.1.0";

// Only parses; Serve() reads the config file and applies the defaults.
CLI::App* AddServeCommand(CLI::App& app, ServeOptions& options) {
  CLI::App* serve = app.add_subcommand("serve", "Run the countersign server");
  serve->footer(
      "Every option but --port-file may also come from the COUNTERSIGN_* environment variable "
      "shown; the command line wins, then the environment, then the --config file, then the "
      "defaults. Exit status: 0 "
      "after a clean shutdown, nonzero when start-up fails.");
  serve->add_option("--listen", options.listen, "address to listen on (default 127.0.0.1:7400)")
      ->type_name("HOST:PORT")
      ->envname("COUNTERSIGN_LISTEN");
  serve
      ->add_option("--store", options.store,
                   "where requests are kept (default sqlite:./data/countersign.db)")
      ->type_name("sqlite:PATH")
      ->envname("COUNTERSIGN_STORE");
  serve
      ->add_option("--auth", options.auth,
                   "require API tokens (default on; off is refused unless listening on loopback)")
      ->type_name("on|off")
      ->check(CLI::IsMember({"on", "off"}))
      ->envname("COUNTERSIGN_AUTH");
  serve
      ->add_option("--config", options.config,
                   "TOML file with a [server] table (see docs/configuration.md)")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_CONFIG");
  serve
      ->add_option("--data-dir", options.data_dir,
                   "where the admin token and keys live (default: the database's directory)")
      ->type_name("DIR")
      ->envname("COUNTERSIGN_DATA_DIR");
  serve->add_option("--port-file", options.port_file, "write the bound port here once listening")
      ->type_name("FILE");
  serve->add_option("--log-level", options.log_level, "trace, debug, info, warn or error")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->envname("COUNTERSIGN_LOG_LEVEL");
  serve->add_option("--threads", options.threads, "network threads (default 0: one per core)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber)
      ->envname("COUNTERSIGN_THREADS");
  serve
      ->add_option("--tls-cert", options.tls_cert,
                   "PEM certificate chain: serve HTTPS instead of HTTP (needs --tls-key)")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_TLS_CERT");
  serve
      ->add_option("--tls-key", options.tls_key,
                   "unencrypted PEM private key of --tls-cert (needs --tls-cert)")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_TLS_KEY");
  serve
      ->add_option("--stream-queue", options.stream_queue,
                   "events a live stream (/v1/events, /v1/ws) may fall behind before it is "
                   "closed (default 1000)")
      ->type_name("N")
      ->envname("COUNTERSIGN_STREAM_QUEUE");
  serve
      ->add_option("--stream-heartbeat", options.stream_heartbeat,
                   "seconds between keep-alives on an idle live stream (default 15)")
      ->type_name("SECONDS")
      ->envname("COUNTERSIGN_STREAM_HEARTBEAT");
  serve
      ->add_option("--public-url", options.public_url,
                   "where people reach this server, used in one-click links (default: "
                   "http(s)://the bound listen address)")
      ->type_name("URL")
      ->envname("COUNTERSIGN_PUBLIC_URL");
  serve
      ->add_option("--hermes-rate-limit", options.hermes_rate_limit,
                   "Hermes adapter: submissions per action per hour, 0 for unlimited (default "
                   "10, or [compat.hermes] rate_limit)")
      ->type_name("N")
      ->envname("COUNTERSIGN_HERMES_RATE_LIMIT");
  return serve;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app(
      "countersign: a human-confirmation gateway. Holds risky actions until a person "
      "approves them.",
      "countersign");
  app.set_version_flag("--version", kVersion);
  // Not require_subcommand(1): CLI11 would then answer an unknown command with "a subcommand
  // is required" instead of naming the word it did not expect.
  app.require_subcommand(0, 1);
  app.footer(
      "Run `countersign COMMAND --help` for a command's options. Client commands find the "
      "server with --url or COUNTERSIGN_URL and authenticate with --token, --token-file or "
      "COUNTERSIGN_TOKEN. Exit status: 0 success, 1 the server refused (4xx), 3 any other "
      "error; `request --wait` and `exec` exit with the outcome (see their --help).");

  ServeOptions serve_options;
  CLI::App* serve = AddServeCommand(app, serve_options);
  ClientCommands client;
  client.Register(app);
  int exec_exit_code = kExitOk;
  ExecCommand exec;
  exec.Register(app, exec_exit_code);
  int link_exit_code = kExitOk;
  LinkCommand link;
  link.Register(app, link_exit_code);
  int telegram_exit_code = kExitOk;
  TelegramCommand telegram;
  telegram.Register(app, telegram_exit_code);

  // exec's command line (after its `--`) is taken out before CLI11 parses the rest, which
  // would reinterpret it; CLI11 takes the arguments last-first.
  std::vector<std::string> args(argv + 1, argv + argc);
  exec.TakeCommand(args);
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitError;
  } catch (const std::exception& e) {
    std::cerr << "countersign: internal error: " << e.what() << "\n";
    return kExitError;
  }
  if (serve->parsed()) return Serve(serve_options);
  if (app.get_subcommands().empty()) {
    std::cerr << app.help() << "\ncountersign: a command is required\n";
    return kExitError;
  }
  // Only the command that ran has set its exit code.
  if (exec_exit_code != kExitOk) return exec_exit_code;
  if (telegram_exit_code != kExitOk) return telegram_exit_code;
  return link_exit_code != kExitOk ? link_exit_code : client.exit_code();
}

}  // namespace countersign
