// How a request's grant options (GrantOption, core/request.hpp) read to the person choosing
// one, and how a form names one. Shared by the one-click link page, the web inbox and the
// email body, so an option has the same words wherever it is offered.
//
// A form names an option by its value, "<scope>:<ttl seconds>" ("session:3600"), and the
// server looks that value up among the stored request's options (FindGrantOption): the ttl a
// grant gets always comes from the request, never from the form. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/request.hpp"

namespace countersign {

// The label of approving with no standing grant, next to the options' labels.
inline constexpr std::string_view kApproveOnceLabel = "Approve once";

// A duration as a person reads it, in its largest whole unit: "30 days", "1 day", "8 h",
// "15 min", "90 s". A duration that is not a whole number of a unit uses the next smaller one
// ("90 min", not "1.5 h").
std::string DurationInWords(std::chrono::seconds duration);

// "Approve for this session (1 h)" or "Always approve deploy_production for ci-bot (30 days)",
// with r's action and requester; an unknown scope reads "Approve and allow <scope> (<ttl>)".
std::string GrantOptionLabel(const Request& r, const GrantOption& option);

// "session:3600": how a form names `option`.
std::string GrantOptionValue(const GrantOption& option);

// The option of r whose GrantOptionValue is `value`; null when r offers none such (any
// input is safe).
const GrantOption* FindGrantOption(const Request& r, std::string_view value);

}  // namespace countersign
