// Plain-text pieces of a request that the chat channels without a rich date or layout
// format share (Telegram, Discord): the headline, readable times, who chose what. User text
// comes out as it is (each channel escapes for its own markup). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/request.hpp"

namespace countersign {

// What a message asks, or how the request ended: "Approval needed", "Please confirm",
// "Question" (with " · reminder: still waiting for a decision" for request.reminded and
// " · escalated to level N" for request.escalated), "Approved by alice, bob",
// "Denied by carol", "Answered by dave", "Expired: no decision before the deadline",
// "Cancelled".
std::string RequestHeadline(const Request& r, std::string_view event);

// "2026-11-21 10:05 UTC".
std::string UtcMinutes(TimePoint t);

// `items` joined with `separator`.
std::string JoinText(const std::vector<std::string>& items, std::string_view separator);

// What a decision chose: the answer of a question, else the choice's label (its id when the
// choice is unknown).
std::string DecisionText(const Request& r, const Decision& d);

// An emoji and a space for a resolved status ("✅ " approved, "❌ " denied, ...); "" while
// pending.
const char* StatusIcon(RequestStatus status);

// How many approvals the request has collected.
int Approvals(const Request& r);

}  // namespace countersign
