// The request bodies of the Hermes confirmation daemon (seeds/004), read as the daemon reads
// them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "engine/new_request.hpp"

namespace countersign {

inline constexpr int64_t kHermesMinTimeoutSeconds = 30;
inline constexpr int64_t kHermesMaxTimeoutSeconds = 3600;
inline constexpr int64_t kHermesDefaultTimeoutSeconds = 300;

// POST /confirm. action → action, description → title, details (object) → details,
// session_key → session, requester → requester (display only while auth is on; default
// "agent"), timeout_seconds → timeout_seconds. Strings are trimmed, as the daemon does.
// timeout_seconds follows the daemon's int(): an integer, a float (truncated), a numeric
// string or a boolean is clamped to 30-3600; anything else ("abc", null, a list, missing)
// means 300. Errors are kMalformed with the daemon's messages ("Field 'action' is
// required", "Invalid JSON body" for a body that is not an object, ...).
Result<NewRequest> ParseHermesSubmission(const boost::json::value& body);

// POST /confirm/{id}/approve and /deny: the decider's name (`name_field`: "approver" or
// "denier") and "reason", trimmed. Like the daemon, a missing, unreadable or non-object body,
// or a member that is not a string, counts as absent: this never fails.
struct HermesResolution {
  std::string by;
  std::string reason;
  // A key the body names twice, which is refused (400) rather than read either way.
  std::optional<std::string> duplicate_key;
};
HermesResolution ParseHermesResolution(std::string_view body, const char* name_field);

// The integer Python's int() reads from `text` (surrounding whitespace, an optional sign,
// decimal digits; values past 64 bits saturate), or nullopt where int() would raise.
std::optional<int64_t> HermesInteger(std::string_view text);

}  // namespace countersign
