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

void ConnectionOptions::AddTo(CLI::App& command) {
  command
      .add_option(
          "--url", url,
          std::string("countersign server URL (env COUNTERSIGN_URL, default ") + kDefaultUrl + ")")
      ->type_name("URL");
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
  return ApiClient(HttpClient(base_url, Trim(secret)));
}

}  // namespace countersign
