// `countersign migrate`: applies the store's pending schema migrations ahead of a rollout.
//
// The store comes from --store (or COUNTERSIGN_STORE), else from the --config file's
// [server] store, else serve's default. Prints each migration it applied and the schema
// version reached, or that there was nothing to do. A database whose schema is newer than
// this binary is refused before anything changes. Exit status: 0 migrated (or nothing to do),
// 1 refused (the schema is newer than this binary), 3 any other error (the database cannot be
// reached or opened, a migration failed, an unreadable config, bad usage). Registered on a
// CLI11 app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class MigrateCommand {
 public:
  // Adds `migrate` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;

  std::optional<std::string> store_;
  std::optional<std::string> config_;
};

}  // namespace countersign
