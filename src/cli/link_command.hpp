// `countersign link`: mints a one-click link offline, for an admin on the server's host.
//
// Signs (tenant, request, choice, recipient, expiry) with the link key in the data directory
// (which the server creates on its first start; this command never creates one) and prints
// the URL, public_url + "/l/" + token, alone on stdout. The request is not looked up: the
// server checks everything when the link is opened. Exit status: 0 printed, 1 the inputs
// are invalid, 3 the key or config cannot be read or usage is wrong. Registered on a CLI11
// app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <optional>
#include <string>

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

  std::string request_id_;
  std::string choice_;
  std::string recipient_;
  std::string tenant_ = "default";
  std::optional<std::string> data_dir_;
  std::optional<std::string> config_;
  std::optional<std::string> public_url_;
  std::optional<std::string> expires_at_;
  std::optional<std::string> ttl_;
};

}  // namespace countersign
