#include "engine/grant_rules.hpp"

#include "core/time_format.hpp"
#include "engine/field_rules.hpp"

namespace countersign {

Status CheckNewGrant(const NewGrant& grant, std::chrono::seconds max_ttl, bool with_decision) {
  const std::string prefix = with_decision ? "grant." : "";
  if (!with_decision && !IsValidAction(grant.action)) {
    return Error::Invalid("action must match [A-Za-z0-9_.:/-]{1,128}");
  }
  if (grant.scope != "session" && grant.scope != "tenant" && grant.scope != "requester") {
    return Error::Invalid(prefix + "scope must be session, requester or tenant");
  }
  if (!with_decision && grant.scope == "session" &&
      (grant.session.empty() || grant.session.size() > kMaxShortText)) {
    return Error::Invalid("a session grant needs a session of 1 to 128 bytes");
  }
  if (!with_decision && grant.scope == "requester" &&
      (grant.requester.empty() || grant.requester.size() > kMaxShortText)) {
    return Error::Invalid("a requester grant needs a requester of 1 to 128 bytes");
  }
  if (grant.ttl_seconds < 1 || grant.ttl_seconds > max_ttl.count()) {
    return Error::Invalid(prefix + "ttl_seconds is required, between 1 and " +
                          std::to_string(max_ttl.count()));
  }
  return Ok();
}

Grant MakeGrant(std::string id, const std::string& tenant, const std::string& action,
                const NewGrant& terms, const std::string& session, const std::string& requester,
                const std::string& created_by, TimePoint now, const std::string& request_id) {
  return Grant{std::move(id),
               tenant,
               action,
               terms.scope,
               terms.scope == "session" ? session : "",
               terms.scope == "requester" ? requester : "",
               created_by,
               now,
               now + std::chrono::seconds(terms.ttl_seconds),
               std::nullopt,
               request_id};
}

EventDraft GrantCreatedEvent(const Grant& grant) {
  return {grant.created_at,
          grant.tenant,
          grant.request_id,
          "grant.created",
          grant.created_by,
          {{"grant_id", grant.id},
           {"action", grant.action},
           {"scope", grant.scope},
           {"session", grant.session},
           {"requester", grant.requester},
           {"expires_at", FormatTime(grant.expires_at)}}};
}

}  // namespace countersign
