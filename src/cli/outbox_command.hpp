// `countersign outbox ls | retry`: what the dispatcher has delivered, is retrying or gave up on,
// and "retry now" for one delivery (admins only; GET /v1/outbox and POST /v1/outbox/{id}/retry).
// Registered on a CLI11 app; the object must outlive the parse.
#pragma once

#include <string>

#include "cli/connection_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class OutboxCommand {
 public:
  // Adds `outbox` and its subcommands to `parent`; when one runs, its exit code is stored in
  // `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int RunList() const;
  int RunRetry() const;

  ConnectionOptions list_connection_;
  ConnectionOptions retry_connection_;
  std::string state_;
  std::string request_;
  int limit_ = 100;
  std::string retry_id_;
};

}  // namespace countersign
