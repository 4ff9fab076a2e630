// `countersign get ID`: shows one request with its decisions. Registered on a CLI11 app; the
// object must outlive the parse.
#pragma once

#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class GetCommand {
 public:
  // Adds `get` to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;

  ConnectionOptions connection_;
  std::string id_;
};

}  // namespace countersign
