// NewOutcome: what POST /v1/requests/{id}/outcome reports after an approved action ran:
//   {"status": "succeeded" | "failed", "exit_code"?: int, "detail"?: string, "by"?: string}
// (`by` names the reporter when auth is off, as on a cancel). ParseNewOutcome checks shapes
// (kMalformed, naming the field); CheckNewOutcome checks meaning (kInvalid, naming the field).
#pragma once

#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace countersign {

struct NewOutcome {
  std::string status;
  std::optional<int64_t> exit_code;
  std::string detail;
  std::string by;
};

Result<NewOutcome> ParseNewOutcome(const boost::json::value& body);

// status is "succeeded" or "failed"; exit_code, when given, fits an int and is 0 on success;
// detail is at most kMaxExecutionDetail bytes.
Status CheckNewOutcome(const NewOutcome& input);

}  // namespace countersign
