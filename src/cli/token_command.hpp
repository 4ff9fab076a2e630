// `countersign token create | list | revoke`: manages API tokens (admins only), and `token
// recover`, which works on the store itself (cli/token_recover_command.hpp).
//
// `create` prints the secret once, alone on stdout (so `$(countersign token create ...)`
// captures just the token), with a note on stderr that it cannot be shown again. Registered
// on a CLI11 app; the object must outlive the parse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/connection_options.hpp"
#include "cli/token_recover_command.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class TokenCommand {
 public:
  // Adds `token` and its subcommands to `parent`; when one runs, its exit code is stored in
  // `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int RunCreate() const;
  int RunList() const;
  int RunRevoke() const;

  ConnectionOptions create_connection_;
  ConnectionOptions list_connection_;
  ConnectionOptions revoke_connection_;
  std::string name_;
  std::string role_;
  std::optional<std::string> tenant_;
  std::vector<std::string> groups_;
  std::string revoke_id_;
  TokenRecoverCommand recover_;
};

}  // namespace countersign
