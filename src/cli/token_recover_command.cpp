#include "cli/token_recover_command.hpp"

#include <future>
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "auth/actor.hpp"
#include "cli/exit_codes.hpp"
#include "cli/store_target.hpp"
#include "config/server_config.hpp"
#include "core/id_generator.hpp"
#include "core/system_clock.hpp"
#include "engine/token_registry.hpp"

namespace countersign {
namespace {

constexpr const char* kFooter =
    "Run it on the server host, as the user the server runs as. With SQLite, stop the server "
    "first (one process per database file); with PostgreSQL, replicas may keep running. The "
    "token is printed once on stdout; revoke the lost one with it (`countersign token list`, "
    "then `countersign token revoke ID`). Exit status: 0 created, 1 the name was refused, 3 any "
    "other error (the store cannot be opened, an unreadable config, bad usage).";

}  // namespace

void TokenRecoverCommand::Register(CLI::App& token, int& exit_code) {
  CLI::App* recover = token.add_subcommand(
      "recover",
      "On the server host: create a new admin token directly in the store (lost admin token)");
  recover->footer(kFooter);
  recover
      ->add_option("--store", store_,
                   "the store: sqlite:PATH or postgres://USER@HOST/DATABASE (default: the "
                   "config's [server] store, else sqlite:./data/countersign.db)")
      ->type_name("sqlite:PATH|postgres://URL")
      ->envname("COUNTERSIGN_STORE");
  recover->add_option("--config", config_, "the server's TOML file, for its [server] store")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_CONFIG");
  recover->add_option("--name", name_, "the new token's name (default: admin-recovered)")
      ->type_name("NAME");
  recover->callback([this, &exit_code] { exit_code = Run(); });
}

int TokenRecoverCommand::Run() const {
  // The store logs its start-up at info; this command's output is the token.
  spdlog::set_level(spdlog::level::warn);
  auto found = StoreTarget::FromOptions(store_, config_);
  if (!found.ok()) return ReportFailure(found.error());
  const StoreTarget& target = *found;
  auto store = target.OpenStore();
  if (!store.ok()) return ReportFailure(store.error());
  SystemClock clock;
  IdGenerator ids(clock);
  TokenRegistry tokens(**store, clock, ids);
  const Actor recoverer{kActor, Role::kAdmin, kOperatorTenant, {}};
  NewToken input;
  input.name = name_;
  input.role = Role::kAdmin;
  input.tenant = kOperatorTenant;
  auto promise = std::make_shared<std::promise<Result<IssuedToken>>>();
  auto future = promise->get_future();
  tokens.Create(recoverer, std::move(input),
                [promise](Result<IssuedToken> issued) { promise->set_value(std::move(issued)); });
  Result<IssuedToken> issued = future.get();
  (*store)->Stop();
  if (!issued.ok()) return ReportFailure(issued.error());
  std::cerr << "created " << issued->principal.id << " for " << issued->principal.name
            << " (role admin, tenant " << kOperatorTenant << ") in " << target.Describe() << "\n";
  std::cout << issued->token << "\n";
  std::cerr << "Store this token now: it cannot be shown again.\n";
  return kExitOk;
}

}  // namespace countersign
