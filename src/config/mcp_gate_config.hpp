// Reads the `[[mcp.gate]]` tables of the file `countersign mcp proxy --config` names: which
// upstream tools wait for a person, and what the proxy asks the gateway for each
// (mcp/mcp_gate_set.hpp). Other top-level tables are left alone, so the file may be the
// server's own. Errors name the file, line and key. Read at start-up only.
#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "core/result.hpp"
#include "mcp/mcp_gate_set.hpp"

namespace countersign {

// The gates in file order; none when there is no [mcp] table. Keys of a gate: `tool` (a glob,
// required), `action` ([A-Za-z0-9_.:/-]{1,128}), `approvers` (array of non-empty strings),
// `timeout_seconds` (1 to 2,592,000), `bridge_elicitation` (boolean). Anything else, in
// [mcp] or in a gate, is Error::Invalid naming it.
Result<std::vector<McpGate>> ReadMcpGates(const toml::table& root, const std::string& file);

// Parses `path` and reads its gates.
Result<std::vector<McpGate>> ReadMcpGateFile(const std::string& path);

}  // namespace countersign
