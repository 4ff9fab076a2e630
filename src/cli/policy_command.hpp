// `countersign policy test`: which policy a request would get, and what it would do, worked
// out offline from a config file (no server involved).
//
// Exit status: 0 when the file is valid (whatever matched), 1 when it is not (the message
// names the file, line and key, as `serve` would), 3 bad usage. Registered on a CLI11 app;
// the object must outlive the parse. Not thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include <boost/json/object.hpp>

#include "policy/policy_set.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class PolicyCommand {
 public:
  // Adds `policy` and its `test` subcommand to `parent`; when it runs, its exit code is
  // stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int RunTest() const;

  std::optional<std::string> config_;
  std::string action_;
  std::string requester_;
  std::string tenant_ = "default";
  std::string risk_;
  bool json_ = false;
};

// The verdict for `facts` as the JSON `policy test --json` prints: the policy, why, high
// risk, the automatic decision, quorum, deny threshold, approvers (as configured and with
// config groups expanded), timeout, on_timeout, the escalation tiers, notify, reminders.
// The built-in policy's timeout is `default_timeout` ([server] default_timeout_seconds), as
// the gateway applies it.
boost::json::object PolicyTestReport(const PolicySet& policies, const RequestFacts& facts,
                                     std::chrono::seconds default_timeout);

// The same report for a person, one setting per line.
void PrintPolicyTestReport(std::ostream& out, const boost::json::object& report);

}  // namespace countersign
