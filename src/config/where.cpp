#include "config/where.hpp"

namespace countersign {

std::string WhereLine(const std::string& file, const toml::node& node) {
  return file + ":" + std::to_string(node.source().begin.line);
}

std::string Where(const std::string& file, const toml::node& node, std::string_view key) {
  return WhereLine(file, node) + ": " + std::string(key);
}

Result<toml::table> ParseTomlFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error::Invalid(path + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
  } catch (const std::exception& e) {
    return Error::Invalid(path + ":0: " + e.what());
  }
}

}  // namespace countersign
