#include "cli/connection_options.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

namespace countersign {
namespace {

std::optional<std::string> Environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string Trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::Unavailable("cannot read token file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = Trim(text.str());
  if (token.empty()) return Error::Unavailable("token file " + path + " is empty");
  return token;
}

}  // namespace

Result<std::string> CaFileOption(const std::optional<std::string>& flag) {
  std::optional<std::string> path = flag ? flag : Environment("COUNTERSIGN_CA_FILE");
  if (!path) return std::string();
  // libcurl would only say so at the TLS handshake, and not at all for an http:// URL.
  if (!std::ifstream(*path)) return Error::Unavailable("cannot read CA file " + *path);
  return *path;
}

void AddCaFileOption(CLI::App& command, std::optional<std::string>& ca_file) {
  command
      .add_option("--cacert", ca_file,
                  "trust the CA certificates in FILE (PEM) for an https:// URL instead of the "
                  "system's (env COUNTERSIGN_CA_FILE)")
      ->type_name("FILE");
}

void ConnectionOptions::AddTo(CLI::App& command) {
  command
      .add_option(
          "--url", url,
          std::string("countersign server URL (env COUNTERSIGN_URL, default ") + kDefaultUrl + ")")
      ->type_name("URL");
  AddCaFileOption(command, ca_file);
  auto* token_option =
      command.add_option("--token", token, "API token (env COUNTERSIGN_TOKEN)")->type_name("TOKEN");
  command
      .add_option("--token-file", token_file,
                  "read the API token from FILE (env COUNTERSIGN_TOKEN_FILE)")
      ->type_name("FILE")
      ->excludes(token_option);
  command.add_flag("--json", json, "print the server's JSON answer instead of text");
}

Result<ApiClient> ConnectionOptions::Connect() const {
  const std::string base_url = url.value_or(Environment("COUNTERSIGN_URL").value_or(kDefaultUrl));
  auto ca = CaFileOption(ca_file);
  if (!ca.ok()) return std::move(ca).error();
  std::string secret;
  if (token) {
    secret = *token;
  } else if (token_file) {
    auto read = ReadTokenFile(*token_file);
    if (!read.ok()) return std::move(read).error();
    secret = std::move(read).value();
  } else if (auto from_env = Environment("COUNTERSIGN_TOKEN")) {
    secret = *from_env;
  } else if (auto file_from_env = Environment("COUNTERSIGN_TOKEN_FILE")) {
    auto read = ReadTokenFile(*file_from_env);
    if (!read.ok()) return std::move(read).error();
    secret = std::move(read).value();
  }
  return ApiClient(HttpClient(base_url, Trim(secret), std::move(ca).value()));
}

}  // namespace countersign
