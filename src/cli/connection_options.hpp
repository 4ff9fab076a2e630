// The options every client command shares: where the server is, which CAs to trust for an
// https:// server, how to authenticate, and whether to print raw JSON. A value type, filled
// in by CLI11 while parsing.
#pragma once

#include <optional>
#include <string>

#include "cli/api_client.hpp"
#include "core/result.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace countersign {

inline constexpr const char* kDefaultUrl = "http://127.0.0.1:7400";

struct ConnectionOptions {
  std::optional<std::string> url;         // --url, else COUNTERSIGN_URL, else kDefaultUrl
  std::optional<std::string> ca_file;     // --cacert, else COUNTERSIGN_CA_FILE, else the system's
  std::optional<std::string> token;       // --token, else --token-file, else the environment
  std::optional<std::string> token_file;  // --token-file
  bool json = false;                      // --json: print the server's answer as is

  // Adds --url, --cacert, --token, --token-file and --json to `command`, bound to this
  // object, which must outlive the parse. Several commands may share one object (`audit` and
  // `audit verify` do, so the options work on either side of `verify`).
  void AddTo(CLI::App& command);

  // The client these options describe. Precedence: --token, --token-file, COUNTERSIGN_TOKEN,
  // COUNTERSIGN_TOKEN_FILE. An unreadable or empty token file, or an unreadable CA file, is
  // Error::Unavailable.
  Result<ApiClient> Connect() const;
};

// The CA file for a server URL: `flag` (--cacert) when set, else COUNTERSIGN_CA_FILE, else
// empty (the system's CAs). A file that cannot be read is Error::Unavailable naming it.
Result<std::string> CaFileOption(const std::optional<std::string>& flag);

// The --cacert option, bound to `ca_file`, as every command with --url has it.
void AddCaFileOption(CLI::App& command, std::optional<std::string>& ca_file);

}  // namespace countersign
