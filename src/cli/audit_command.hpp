// `countersign audit [verify]`: prints the hash-chained audit log, one line per event, or
// (`audit verify`) checks the chain: exit 0 intact, 1 broken. Registered on a CLI11 app; the
// object must outlive the parse.
#pragma once

#include <optional>
#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class AuditCommand {
 public:
  // Adds `audit` and `audit verify` to `parent`; when one runs, its exit code is stored in
  // `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int RunList() const;
  int RunVerify() const;

  // Shared by `audit` and `audit verify`, so `audit --url X verify` works too.
  ConnectionOptions connection_;
  std::string request_;
  std::optional<long long> since_;
  std::optional<int> limit_;
  bool full_ = false;  // audit verify --full
};

}  // namespace countersign
