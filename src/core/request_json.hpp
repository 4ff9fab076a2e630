// JSON renderings of the core types, exactly as the v1 API shows them (DESIGN.md), and the
// parsers the store and CLI use to read them back. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/event.hpp"
#include "core/grant.hpp"
#include "core/request.hpp"
#include "core/result.hpp"

namespace countersign {

boost::json::object ChoiceToJson(const Choice& choice);
// A request as the API shows it. The one rendering is AppendRequestJson (request_json_text.cpp),
// which appends the JSON text straight to `out` (the request endpoints' answers, which write
// many); RequestToJson reads that text back for the callers that need the object.
void AppendRequestJson(const Request& request, std::string& out);
boost::json::object RequestToJson(const Request& request);
boost::json::object EventToJson(const Event& event);
boost::json::object GrantToJson(const Grant& grant);

boost::json::array ChoicesToJson(const std::vector<Choice>& choices);
boost::json::array StringsToJson(const std::vector<std::string>& strings);

// Escalation tiers: [{"approvers": [...], "timeout_seconds": N, "notify": [...]}].
boost::json::array TiersToJson(const std::vector<EscalationTier>& tiers);
Result<std::vector<EscalationTier>> TiersFromJson(const boost::json::value& value);

// Grant options: [{"scope": "session", "ttl_seconds": 3600}, ...].
boost::json::array GrantOptionsToJson(const std::vector<GrantOption>& options);
Result<std::vector<GrantOption>> GrantOptionsFromJson(const boost::json::value& value);

// An execution report: {"status", "exit_code" (when known), "detail", "reported_by", "at"}.
boost::json::object ExecutionToJson(const ExecutionReport& report);
Result<ExecutionReport> ExecutionFromJson(const boost::json::value& value);

// Reads a choices array. Every element needs a string id and a known outcome; label and style
// default to the id and "default".
Result<std::vector<Choice>> ChoicesFromJson(const boost::json::value& value);

// Reads an array of strings; an error names `field` when it is something else.
Result<std::vector<std::string>> StringsFromJson(const boost::json::value& value,
                                                 const char* field);

}  // namespace countersign
