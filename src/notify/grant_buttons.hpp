// Grant buttons: the chat buttons that approve a request and, in the same decision, give a
// standing permission from the request's own grant_options (core/request.hpp): "Approve for
// this session (1 h)" and "Always approve deploy for ci-bot (30 days)". Shared by the
// channels with interactive buttons (Slack's Web API, Telegram, Discord applications) and by
// the hook that turns a press into a decision.
//
// A grant button approves with the request's first approve-outcome choice, and says so in its
// label (a choice's meaning is its outcome). It carries only the scope; the duration is looked
// up in the request as stored when the press arrives. What was granted travels to the message
// edit in the outbox row's payload ({"granted": {"scope", "ttl_seconds"}}), from the change's
// grant.created event. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/request.hpp"

namespace countersign {

// The position, in `r.choices`, of the choice a grant button approves with, when `r` offers
// grant buttons now: pending, an approval, not high-risk, with grant_options, with an
// approve-outcome choice, and one approval away from being approved (a grant comes with the
// approval that resolves the request, so an earlier approval of a quorum could not give one).
// nullopt otherwise.
std::optional<size_t> GrantChoiceIndex(const Request& r);

// The option of `r` with `scope`; null when `r` offers none.
const GrantOption* GrantOptionOfScope(const Request& r, std::string_view scope);

// A grant button's text within `max_units` (UTF-16 units): GrantOptionLabel() (the words of
// the link page and the inbox, core/grant_option_text.hpp) when it fits, "Approve for this
// session (1 h)", "Always approve deploy for ci-bot (30 days)"; else, for a long action or
// requester, "Always approve for ci-bot (30 days)" with the requester cut as needed.
std::string GrantButtonText(const Request& r, const GrantOption& option, size_t max_units);

// What a grant given with the approval adds to the message: "approved for this session for
// 1 h", "always approved for ci-bot for 30 days" (durations by DurationInWords()).
std::string GrantedText(const Request& r, const GrantOption& granted);

// RequestHeadline() ("Approved by alice"), followed, when `r` is approved and `granted` is
// set, by " — and " and GrantedText().
std::string HeadlineWithGrant(const Request& r, std::string_view event,
                              const std::optional<GrantOption>& granted);

// An outbox row's payload naming what was granted, and its reading back (nullopt when the
// payload names no grant or is not JSON).
boost::json::object GrantedPayload(const GrantOption& granted);
std::optional<GrantOption> GrantedFromPayload(std::string_view payload);

}  // namespace countersign
