// `countersign request`: asks for a human decision, and with --wait blocks until it is made.
//
// Without --wait it prints the new request and exits 0. With --wait it long-polls
// /v1/requests/{id}/wait until the request leaves `pending` (or --wait-timeout passes),
// reporting who may decide and each decision on stderr (WaitProgress), and exits with the
// outcome (see exit_codes.hpp); SIGINT or SIGTERM while waiting cancels the request (or, with
// --keep-on-interrupt, leaves it pending) and exits 130 (WaitInterrupt). Registered on a CLI11
// app; the object must outlive the parse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cli/api_client.hpp"
#include "cli/connection_options.hpp"
#include "cli/wait_progress.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class RequestCommand {
 public:
  // Adds `request` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;
  boost::json::object Body() const;
  int CreateAndWait(const ApiClient& api) const;
  int Wait(const ApiClient& api, boost::json::object request, WaitProgress& progress) const;

  ConnectionOptions connection_;
  std::string action_;
  std::string title_;
  std::vector<std::string> details_;
  std::vector<std::string> arguments_;
  std::optional<std::string> arguments_json_;
  std::optional<std::string> kind_;
  std::vector<std::string> approvers_;
  std::optional<int> quorum_;
  std::optional<int> timeout_seconds_;
  std::optional<std::string> on_timeout_;
  std::optional<std::string> session_;
  std::optional<std::string> idempotency_key_;
  std::optional<std::string> requester_;
  bool wait_ = false;
  bool keep_on_interrupt_ = false;
  int wait_timeout_seconds_ = 0;
  bool quiet_ = false;
};

}  // namespace countersign
