// `countersign approve | deny | decide`: records one decision on a pending request.
//
// `approve` and `deny` are `decide` with the choice fixed. Prints what the request became
// (resolved, or still pending with the progress towards its quorum). Registered on a CLI11
// app; the object must outlive the parse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class DecideCommand {
 public:
  // `fixed_choice` empty: the command takes --choice (and --answer, for questions).
  DecideCommand(std::string name, std::string description, std::string fixed_choice)
      : name_(std::move(name)),
        description_(std::move(description)),
        choice_(std::move(fixed_choice)),
        choice_is_fixed_(!choice_.empty()) {}

  // Adds the command to `parent`; when it runs, its exit code is stored in `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int Run() const;

  std::string name_;
  std::string description_;
  std::string choice_;
  bool choice_is_fixed_;
  ConnectionOptions connection_;
  std::string id_;
  std::optional<std::string> comment_;
  std::optional<std::string> answer_;
  std::optional<std::string> by_;
  std::vector<std::string> fields_;      // --field NAME=VALUE
  std::optional<std::string> response_;  // --response JSON
};

}  // namespace countersign
