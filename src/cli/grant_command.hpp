// `countersign grant create | list | revoke`: standing "don't ask again" approvals for one
// action, in one session or a whole tenant, always with an expiry (approvers and admins).
// Registered on a CLI11 app; the object must outlive the parse.
#pragma once

#include <cstdint>
#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class GrantCommand {
 public:
  // Adds `grant` and its subcommands to `parent`; when one runs, its exit code is stored in
  // `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int RunCreate() const;
  int RunList() const;
  int RunRevoke() const;

  ConnectionOptions create_connection_;
  ConnectionOptions list_connection_;
  ConnectionOptions revoke_connection_;
  std::string action_;
  std::string scope_ = "tenant";
  std::string session_;
  std::string requester_;
  int64_t ttl_seconds_ = 0;
  std::string revoke_id_;
};

}  // namespace countersign
