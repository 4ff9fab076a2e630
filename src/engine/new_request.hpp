// NewRequest and NewDecision: what a caller asks for, parsed from the v1 JSON body.
//
// Parsing checks shapes and types (a wrong type is kMalformed, 400); Gateway checks meaning
// (a bad action name or an out-of-range timeout is kInvalid, 422).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/request.hpp"
#include "core/result.hpp"

namespace countersign {

struct NewRequest {
  std::string action;
  std::string title;
  boost::json::object details;
  boost::json::object arguments;
  std::string kind = "approval";
  std::optional<std::vector<Choice>> choices;
  std::vector<std::string> approvers;
  std::optional<int64_t> quorum;
  std::optional<int64_t> timeout_seconds;
  std::string on_timeout = "expire";
  std::vector<std::string> notify;
  std::string callback_url;
  std::string session;
  std::string idempotency_key;
  std::string requester;    // from the body: display only unless auth is off
  std::string body_sha256;  // canonical hash of the whole body; set when a key is given
};

struct NewDecision {
  std::string choice;
  std::string comment;
  std::string answer;
  std::optional<boost::json::object> arguments;
  std::string by;  // from the body: the decider's name when auth is off
};

Result<NewRequest> ParseNewRequest(const boost::json::value& body);
Result<NewDecision> ParseNewDecision(const boost::json::value& body);

}  // namespace countersign
