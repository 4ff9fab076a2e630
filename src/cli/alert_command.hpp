// `countersign alert send`: asks the server to chat with the person an alert is about
// (POST /v1/alerts; docs/conversations.md).
//
// Either one alert from flags (--name, --user or --subject, --description, --property), or
// every alert of a file in the seed bot's alerts.toml shape:
//   [[alerts]]
//   id = "pivot"  name = "Lateral movement"  description = "..."  user_id = "U123"
//   [alerts.properties]
//   source_host = "laptop-7"
// (--id picks one of them). --approver, --timeout, --max-nudges, --question and --channel
// apply to every alert sent. Prints one line per conversation (or the server's JSON with
// --json). Exit status: 0 when every alert was accepted, 1 when the server refused one (it goes
// on with the rest), 3 on any other error. Registered on a CLI11 app; the object must outlive
// the parse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "cli/connection_options.hpp"
#include "core/result.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class AlertCommand {
 public:
  // Adds `alert send` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

  // The alerts of an alerts.toml text, as POST /v1/alerts bodies (without the options that
  // apply to all); `name` names it in errors.
  static Result<std::vector<boost::json::object>> ReadAlertsFile(std::string_view text,
                                                                 const std::string& name);

 private:
  int Run() const;
  // The bodies to send: from the file or the flags, with the shared options.
  Result<std::vector<boost::json::object>> Bodies() const;

  ConnectionOptions connection_;
  std::optional<std::string> file_;
  std::optional<std::string> id_;
  std::optional<std::string> name_;
  std::optional<std::string> user_;
  std::optional<std::string> subject_;
  std::optional<std::string> description_;
  std::vector<std::string> properties_;
  std::optional<std::string> question_;
  std::vector<std::string> approvers_;
  std::optional<int> timeout_seconds_;
  std::optional<int> max_nudges_;
  std::optional<std::string> channel_;
};

}  // namespace countersign
