#include "cli/serve.hpp"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "config/server_settings.hpp"
#include "server/json_log_formatter.hpp"
#include "server/server.hpp"

namespace countersign {

CLI::App* AddServeCommand(CLI::App& app, ServeOptions& options) {
  CLI::App* serve = app.add_subcommand("serve", "Run the countersign server");
  serve->footer(
      "Every option may also come from the COUNTERSIGN_* environment variable shown; the "
      "command line wins, then the environment, then the --config file, then the defaults "
      "(docs/configuration.md). Durations take 250ms, 30s, 15m, 1h30m, 7d or a number of "
      "seconds. Exit status: 0 after a clean shutdown, nonzero when start-up fails.");
  for (const ServerSetting& setting : ServerSettings()) {
    CLI::Option* option = serve
                              ->add_option_function<std::string>(
                                  setting.flag,
                                  [&options, name = setting.name](const std::string& value) {
                                    options.given.insert_or_assign(name, value);
                                  },
                                  setting.HelpText())
                              ->type_name(setting.value_name)
                              ->envname(setting.env);
    if (!setting.choices.empty()) {
      option->check(CLI::IsMember(setting.choices));
    } else if (setting.kind == SettingKind::kInteger || setting.kind == SettingKind::kDuration) {
      option->check([&setting](const std::string& value) { return setting.CheckForm(value); });
    }
  }
  return serve;
}

int Serve(const ServeOptions& options) {
  // The database holds request contents and token hashes, the data directory the admin
  // token: nothing the server creates is for other users to read.
  ::umask(077);
  auto config = LoadServerConfig(options);
  if (!config.ok()) {
    spdlog::error("configuration error: {}", config.error().message);
    return 1;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  if (config->log_format == "json") spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
  auto server = Server::Start(std::move(config).value(), options);
  if (!server.ok()) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  server.value()->Run();
  return 0;
}

}  // namespace countersign
