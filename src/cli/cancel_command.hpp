// `countersign cancel ID`: withdraws a pending request (its requester or an admin).
// Registered on a CLI11 app; the object must outlive the parse.
#pragma once

#include <optional>
#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class CancelCommand {
 public:
  // Adds `cancel` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;

  ConnectionOptions connection_;
  std::string id_;
  std::optional<std::string> reason_;
};

}  // namespace countersign
