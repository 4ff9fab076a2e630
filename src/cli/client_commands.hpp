// ClientCommands: every subcommand that talks to a running server over the v1 API
// (request, alert send, get, ls, approve, deny, decide, cancel, audit, token, grant, outbox),
// plus the offline `receipt verify` and `policy test`.
//
// Register() adds them to a CLI11 app; the one that parses runs from its CLI11 callback and
// leaves its exit code in exit_code(). The object must outlive the parse. Not thread-safe.
#pragma once

#include "cli/alert_command.hpp"
#include "cli/audit_command.hpp"
#include "cli/cancel_command.hpp"
#include "cli/decide_command.hpp"
#include "cli/get_command.hpp"
#include "cli/grant_command.hpp"
#include "cli/list_command.hpp"
#include "cli/outbox_command.hpp"
#include "cli/policy_command.hpp"
#include "cli/receipt_command.hpp"
#include "cli/request_command.hpp"
#include "cli/token_command.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class ClientCommands {
 public:
  ClientCommands();

  void Register(CLI::App& app);

  // The exit code of the command that ran; kExitOk when none did.
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_ = 0;
  RequestCommand request_;
  AlertCommand alert_;
  GetCommand get_;
  ListCommand list_;
  DecideCommand approve_;
  DecideCommand deny_;
  DecideCommand decide_;
  CancelCommand cancel_;
  AuditCommand audit_;
  TokenCommand token_;
  GrantCommand grant_;
  OutboxCommand outbox_;
  PolicyCommand policy_;
  ReceiptCommand receipt_;
};

}  // namespace countersign
