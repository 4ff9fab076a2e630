// The AiSOC case timeline, derived from the audit log: no second store.
//
// A verification is a request of action kAisocAction in session "case:<case_id>". Its
// timeline entries ({"type", "at", "content", "metadata"}, the shape the seed posts to its
// case service) come from two kinds of audit event:
//   chatops.verify.prompted   the adapter's note (Gateway::Note) once the prompt was
//                             delivered; its data holds the entry's content and metadata;
//   decision.recorded         becomes chatops.verify.responded: who chose what, and how
//                             (the decision's chat channel when it came from one; else
//                             "chatops_callback" when the verification's user decided, which
//                             only the signed callback links let them do; else "api").
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/event.hpp"
#include "core/request.hpp"

namespace countersign {

inline constexpr char kAisocAction[] = "chatops.verify";
inline constexpr char kPromptedEvent[] = "chatops.verify.prompted";
inline constexpr char kRespondedEvent[] = "chatops.verify.responded";
// A timeline_url POST failed (best effort: the verification goes on).
inline constexpr char kTimelineFailedEvent[] = "chatops.verify.timeline_failed";

// The session that groups a case's verifications.
std::string CaseSession(std::string_view case_id);

// The timeline entry `e` (an event of verification `r`) makes, or nullopt for an event that
// is not on the timeline.
std::optional<boost::json::object> TimelineEntry(const Request& r, const Event& e);

}  // namespace countersign
