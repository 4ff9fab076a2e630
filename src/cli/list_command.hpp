// `countersign ls`: lists requests, newest first, as a table; --all follows the cursors;
// --mine keeps the requests the caller can decide (the API's decidable=true).
// Registered on a CLI11 app; the object must outlive the parse.
#pragma once

#include <optional>
#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class ListCommand {
 public:
  // Adds `ls` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;

  ConnectionOptions connection_;
  std::string status_;
  std::string action_;
  std::string requester_;
  std::string session_;
  std::optional<int> limit_;
  std::string cursor_;
  bool all_ = false;
  bool mine_ = false;
};

}  // namespace countersign
