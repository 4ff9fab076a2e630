// `countersign exec --action NAME -- CMD ARGS...`: runs a command only once a person has
// approved it.
//
// Creates an approval request whose arguments are the command line ({"argv": [...]}, or
// --arguments), long-polls until it is decided (poll after poll through the server's 60 s
// cap, retrying transient failures for up to five minutes; who may decide and each decision
// are reported on stderr by WaitProgress), and only when it is approved runs
// CMD with the receipt in COUNTERSIGN_RECEIPT and the request id in COUNTERSIGN_REQUEST_ID,
// then exits with CMD's status (128+N when signal N killed it). Otherwise CMD never runs:
// 1 denied (or approved with edited arguments), 2 expired or cancelled, 3 bad usage or the
// server could not be asked, 127 / 126 CMD not found / not executable (checked before asking
// anyone). SIGINT or SIGTERM while waiting cancels the request and exits 130; while CMD runs
// they are passed on to it. After CMD ran (or could not be started), its exit status is
// reported to the server as the request's execution (POST /v1/requests/{id}/outcome) unless
// --no-report; a failed report is a warning on stderr and never changes exec's exit status.
// Registered on a CLI11 app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class ExecCommand {
 public:
  // Adds `exec` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

  // Takes the command to run out of `args` (the command line without the program name) when
  // it is `exec ... -- CMD ARGS...`: everything after the first `--`, which is removed too.
  // Call it before parsing, so that CLI11 never sees the command (it would split an argument
  // like `[a,b]` and drop its brackets, and take the command's options for exec's).
  void TakeCommand(std::vector<std::string>& args);

 private:
  int Run() const;
  boost::json::object Body() const;

  ConnectionOptions connection_;
  std::string action_;
  std::optional<std::string> title_;
  std::optional<std::string> arguments_json_;
  std::optional<int> timeout_seconds_;
  std::vector<std::string> approvers_;
  std::optional<std::string> session_;
  std::optional<std::string> idempotency_key_;
  bool quiet_ = false;
  bool no_report_ = false;
  std::vector<std::string> command_;  // from TakeCommand()
  std::vector<std::string> stray_;    // words CLI11 found before `--`: a usage error
};

}  // namespace countersign
