// GlobMatch: the wildcard patterns of policy matches, approver lists and the high-risk list.
//
// Pure function; thread-safe.
#pragma once

#include <string_view>

namespace countersign {

// '*' matches any run of characters (including none), '?' exactly one; everything else
// itself. Case-sensitive. Compares bytes, which is enough for action names (ASCII).
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace countersign
