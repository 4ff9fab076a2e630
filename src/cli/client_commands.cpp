#include "cli/client_commands.hpp"

#include <CLI/CLI.hpp>

namespace countersign {

ClientCommands::ClientCommands()
    : approve_("approve", "Approve a pending request", "approve"),
      deny_("deny", "Deny a pending request", "deny"),
      decide_("decide", "Record any choice on a pending request (verification and question kinds)",
              "") {}

void ClientCommands::Register(CLI::App& app) {
  request_.Register(app, exit_code_);
  alert_.Register(app, exit_code_);
  get_.Register(app, exit_code_);
  list_.Register(app, exit_code_);
  approve_.Register(app, exit_code_);
  deny_.Register(app, exit_code_);
  decide_.Register(app, exit_code_);
  cancel_.Register(app, exit_code_);
  audit_.Register(app, exit_code_);
  token_.Register(app, exit_code_);
  grant_.Register(app, exit_code_);
  outbox_.Register(app, exit_code_);
  policy_.Register(app, exit_code_);
  receipt_.Register(app, exit_code_);
}

}  // namespace countersign
