// `countersign token recover`: on the server host, a new admin token of the default tenant,
// written straight into the store, for when no admin token is left to create one through the
// API (the lost-admin-token case of docs/operations.md).
//
// The store comes from --store (or COUNTERSIGN_STORE), else from the --config file's [server]
// store, else serve's default, exactly as `countersign serve` would open it. The new token is
// recorded like any other (a token.created audit event, by "token-recover") and printed once,
// alone on stdout; the lost token stays valid until revoked with the new one. Exit status: 0
// created, 1 the name was refused, 3 any other error (the store cannot be opened, an
// unreadable config, bad usage).
// Registered on a CLI11 app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class TokenRecoverCommand {
 public:
  static constexpr char kActor[] = "token-recover";

  // Adds `recover` to `token` (the `countersign token` command); when it runs, its exit code is
  // stored in `exit_code`.
  void Register(CLI::App& token, int& exit_code);

 private:
  int Run() const;

  std::optional<std::string> store_;
  std::optional<std::string> config_;
  std::string name_ = "admin-recovered";
};

}  // namespace countersign
