#include "cli/migrate_command.hpp"

#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "cli/exit_codes.hpp"
#include "cli/store_target.hpp"
#include "config/server_config.hpp"

namespace countersign {
namespace {

constexpr const char* kFooter =
    "Applies the migrations the store's schema lacks, so that a rollout's new servers start "
    "on a ready database; safe while servers of this version run (PostgreSQL replicas take "
    "the same lock). A database whose schema is newer than this binary is refused unchanged. "
    "Exit status: 0 migrated or nothing to do, 1 refused (the schema is newer than this "
    "binary), 3 any other error (the database cannot be reached or opened, a migration "
    "failed, an unreadable config, bad usage).";

}  // namespace

void MigrateCommand::Register(CLI::App& parent, int& exit_code) {
  CLI::App* migrate =
      parent.add_subcommand("migrate", "Apply the store's pending schema migrations");
  migrate->footer(kFooter);
  migrate
      ->add_option("--store", store_,
                   "the store: sqlite:PATH or postgres://USER@HOST/DATABASE (default: the "
                   "config's [server] store, else sqlite:./data/countersign.db)")
      ->type_name("sqlite:PATH|postgres://URL")
      ->envname("COUNTERSIGN_STORE");
  migrate->add_option("--config", config_, "the server's TOML file, for its [server] store")
      ->type_name("FILE")
      ->envname("COUNTERSIGN_CONFIG");
  migrate->callback([this, &exit_code] { exit_code = Run(); });
}

int MigrateCommand::Run() const {
  // The stores log each step at info; this command prints its own account of them.
  spdlog::set_level(spdlog::level::warn);
  auto found = StoreTarget::FromOptions(store_, config_);
  if (!found.ok()) return ReportFailure(found.error());
  const StoreTarget& target = *found;
  auto outcome = target.Migrate();
  if (!outcome.ok()) return ReportFailure(outcome.error());
  for (const auto& migration : outcome->applied) {
    std::cout << "applied " << migration.name << "\n";
  }
  if (outcome->applied.empty()) {
    std::cout << target.Describe() << ": schema version " << outcome->version
              << ", up to date: nothing to do\n";
  } else {
    std::cout << target.Describe() << ": schema version " << outcome->version << " ("
              << outcome->applied.size() << " migration"
              << (outcome->applied.size() == 1 ? "" : "s") << " applied)\n";
  }
  return kExitOk;
}

}  // namespace countersign
