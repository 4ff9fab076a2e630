// Grant rules: what a grant may say, the grant itself, and its record in the audit log.
//
// Shared by Gateway::CreateGrant (a grant on its own) and the lifecycle (a grant given with an
// approval). Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "core/grant.hpp"
#include "core/result.hpp"
#include "engine/new_request.hpp"
#include "store/store.hpp"

namespace countersign {

// Checks a grant's terms: its scope, its ttl (1 to `max_ttl` seconds) and, for a grant given on
// its own, its action and session. One given with an approval (`with_decision`) takes action and
// session from the request, and its errors name the body's "grant." fields. kInvalid when not.
Status CheckNewGrant(const NewGrant& grant, std::chrono::seconds max_ttl, bool with_decision);

// The grant `terms` make, given by `created_by` at `now`; a session grant covers `session`, a
// requester grant `requester`. `request_id` names the approval it came with (empty for a grant
// on its own).
Grant MakeGrant(std::string id, const std::string& tenant, const std::string& action,
                const NewGrant& terms, const std::string& session, const std::string& requester,
                const std::string& created_by, TimePoint now, const std::string& request_id);

// The grant.created event that records `grant`, by its creator, on its request if any.
EventDraft GrantCreatedEvent(const Grant& grant);

}  // namespace countersign
