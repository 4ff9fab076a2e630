// FindDuplicateKey: the first key that appears twice in one JSON object of `text`, if any.
//
// Boost.JSON, like most parsers, keeps the last of two equal keys, so `{"cmd":"ls",
// "cmd":"rm -rf /"}` would show an approver one value in a viewer that keeps the first and
// act on the other. Bodies from untrusted senders are checked with this and refused when it
// finds one. It reads `text` with Boost.JSON's event parser (no value is built); text that is
// not JSON finds nothing (the caller's parse reports that). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace countersign {

std::optional<std::string> FindDuplicateKey(std::string_view text);

}  // namespace countersign
