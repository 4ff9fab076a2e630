// `countersign receipt verify TOKEN`: checks a signed approval receipt offline, against the
// JWKS of a --jwks file or of the server's GET /v1/keys (see docs/receipts.md).
//
// With --consume, a valid receipt is then consumed through POST /v1/receipts/consume (the
// executor's token): 0 when that use counted, 1 when the server refused it (409 already
// consumed, naming the first consumer; 422 expired, foreign, no jti).
//
// Exit status: 0 valid; 1 invalid (malformed, unknown key, bad signature, not approved,
// expired, action or arguments mismatch), with the reason on stderr; 3 anything else (an
// unreadable or non-JSON file, an unreachable server, bad usage). Registered on a CLI11
// app; the object must outlive the parse. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

class ReceiptCommand {
 public:
  // Adds `receipt` (with `verify`) to `parent`; the exit code goes to `exit_code`.
  void Register(CLI::App& parent, int& exit_code);

 private:
  int RunVerify() const;

  std::string token_;
  std::optional<std::string> jwks_file_;
  std::optional<std::string> url_;
  std::optional<std::string> ca_file_;
  std::optional<std::string> action_;
  std::optional<std::string> arguments_file_;
  std::optional<std::int64_t> at_;
  bool json_ = false;
  // --consume: once valid, one use through POST /v1/receipts/consume with this token.
  bool consume_ = false;
  std::optional<std::string> token_value_;
  std::optional<std::string> token_file_;
};

}  // namespace countersign
