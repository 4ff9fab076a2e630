// Where a value sits in a config file, for error messages. Every config error names its
// place the same way: "FILE:LINE: KEY" and then what is wrong, e.g.
// "countersign.toml:12: policy[1].quorum must be 1-100". Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "core/result.hpp"

namespace countersign {

// "FILE:LINE: KEY", LINE being where `node` starts.
std::string Where(const std::string& file, const toml::node& node, std::string_view key);

// "FILE:LINE", for a message about the node itself ("...: unknown table or key 'x'").
std::string WhereLine(const std::string& file, const toml::node& node);

// Reads and parses the TOML file at `path`. A syntax error is Error::Invalid with the file and
// line ("countersign.toml:2: Error while parsing ..."), an unreadable file "PATH:0: ...".
// Never throws (toml++ reports errors by throwing; the exception stops here).
Result<toml::table> ParseTomlFile(const std::string& path);

// Parses `text` as TOML, errors as ParseTomlFile's with `name` in place of the path.
Result<toml::table> ParseTomlText(std::string_view text, const std::string& name);

}  // namespace countersign
