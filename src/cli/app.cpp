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
#include "cli/mcp_command.hpp"
#include "cli/migrate_command.hpp"
#include "cli/serve.hpp"
#include "cli/store_copy_command.hpp"
#include "cli/telegram_command.hpp"

namespace countersign {
namespace {

constexpr const char* kVersionNumber = "0.1.0";

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app(
      "countersign: a human-confirmation gateway. Holds risky actions until a person "
      "approves them.",
      "countersign");
  app.set_version_flag("--version", std::string("countersign ") + kVersionNumber);
  // Not require_subcommand(1): CLI11 would then answer an unknown command with "a subcommand
  // is required" instead of naming the word it did not expect.
  app.require_subcommand(0, 1);
  app.footer(
      "Run `countersign COMMAND --help` for a command's options. Client commands find the "
      "server with --url or COUNTERSIGN_URL (http:// or https://; --cacert or "
      "COUNTERSIGN_CA_FILE for a private CA; proxies from https_proxy, http_proxy and NO_PROXY "
      "as in curl) and authenticate with --token, --token-file or COUNTERSIGN_TOKEN. Exit "
      "status: 0 success, 1 the server refused (4xx), 3 any other error; `request --wait`, `exec` "
      "and `store copy` exit with the outcome (see their --help).");

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
  int mcp_exit_code = kExitOk;
  McpCommand mcp;
  mcp.Register(app, mcp_exit_code, kVersionNumber);
  int telegram_exit_code = kExitOk;
  TelegramCommand telegram;
  telegram.Register(app, telegram_exit_code);
  int migrate_exit_code = kExitOk;
  MigrateCommand migrate;
  migrate.Register(app, migrate_exit_code);
  int store_exit_code = kExitOk;
  StoreCopyCommand store_copy;
  store_copy.Register(app, store_exit_code);

  // exec's command line (after its `--`) is taken out before CLI11 parses the rest, which
  // would reinterpret it; CLI11 takes the arguments last-first.
  std::vector<std::string> args(argv + 1, argv + argc);
  exec.TakeCommand(args);
  mcp.TakeCommand(args);
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
  if (mcp_exit_code != kExitOk) return mcp_exit_code;
  if (migrate_exit_code != kExitOk) return migrate_exit_code;
  if (store_exit_code != kExitOk) return store_exit_code;
  return link_exit_code != kExitOk ? link_exit_code : client.exit_code();
}

}  // namespace countersign
