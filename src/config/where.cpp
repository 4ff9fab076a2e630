#include "config/where.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace countersign {

std::string WhereLine(const std::string& file, const toml::node& node) {
  return file + ":" + std::to_string(node.source().begin.line);
}

std::string Where(const std::string& file, const toml::node& node, std::string_view key) {
  return WhereLine(file, node) + ": " + std::string(key);
}

Result<toml::table> ParseTomlFile(const std::string& path) {
  // A directory opens and reads as nothing on Linux: it would pass for an empty file, and a
  // server would start with no policies at all.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return Error::Invalid(path + ":0: cannot read the file: " + ec.message());
  if (!std::filesystem::is_regular_file(status)) {
    return Error::Invalid(path + ":0: not a regular file" +
                          (std::filesystem::is_directory(status) ? " (a directory)" : ""));
  }
  if (!std::ifstream(path)) {
    return Error::Invalid(path + ":0: cannot read the file: " + std::strerror(errno));
  }
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error::Invalid(path + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
  } catch (const std::exception& e) {
    return Error::Invalid(path + ":0: " + e.what());
  }
}

Result<toml::table> ParseTomlText(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return Error::Invalid(name + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
  } catch (const std::exception& e) {
    return Error::Invalid(name + ":0: " + e.what());
  }
}

}  // namespace countersign
