// `countersign link`: prints a one-click link that lets one person make one choice.
//
// Two ways, by whether a server URL is given (--url or COUNTERSIGN_URL):
// - from the API, anywhere: POST /v1/requests/{id}/links with the caller's token (an admin,
//   an approver the request names, or the agent that asked it) and prints the link the server
//   made for --as and --choice; it expires at the request's deadline. --json prints the whole
//   answer (every recipient's links) instead;
// - offline, on the server's host: signs (tenant, request, choice, recipient, expiry) with the
//   link key in the data directory (which the server creates on its first start; this command
//   never creates one). The request is not looked up: the server checks everything when the
//   link is opened.
// Either way the URL, public_url + "/l/" + token, is printed alone on stdout. Exit status: 0
// printed, 1 the inputs are invalid or the server refused (no such link, not allowed, already
// decided), 3 the key, config or server cannot be reached or usage is wrong. Registered on a
// CLI11 app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <optional>
#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class LinkCommand {
 public:
  // Adds `link` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;
  // Asks the server (connection_ names it).
  int RunRemote() const;

  std::string request_id_;
  std::string choice_;
  std::string recipient_;
  std::string tenant_ = "default";
  std::optional<std::string> data_dir_;
  std::optional<std::string> config_;
  std::optional<std::string> public_url_;
  std::optional<std::string> expires_at_;
  std::optional<std::string> ttl_;
  ConnectionOptions connection_;
};

}  // namespace countersign
