#include "engine/new_outcome.hpp"

#include <climits>

#include "core/execution_summary.hpp"
#include "engine/field_reader.hpp"

namespace countersign {

Result<NewOutcome> ParseNewOutcome(const boost::json::value& body) {
  if (!body.is_object()) return Error::Malformed("the outcome body must be a JSON object");
  FieldReader r(body.get_object());
  NewOutcome in;
  CS_RETURN_IF_ERROR(r.String("status", in.status));
  CS_RETURN_IF_ERROR(r.Integer("exit_code", in.exit_code));
  CS_RETURN_IF_ERROR(r.String("detail", in.detail));
  CS_RETURN_IF_ERROR(r.String("by", in.by));
  return in;
}

Status CheckNewOutcome(const NewOutcome& input) {
  if (input.status != "succeeded" && input.status != "failed") {
    return Error::InvalidField("status", "status must be \"succeeded\" or \"failed\"");
  }
  if (input.exit_code && (*input.exit_code < INT_MIN || *input.exit_code > INT_MAX)) {
    return Error::InvalidField("exit_code", "exit_code is out of range");
  }
  // A report that contradicts itself would mislead whoever reads the audit trail.
  if (input.status == "succeeded" && input.exit_code && *input.exit_code != 0) {
    return Error::InvalidField("exit_code", "a succeeded run has exit_code 0 (or none)");
  }
  if (input.detail.size() > kMaxExecutionDetail) {
    return Error::InvalidField(
        "detail", "detail is longer than " + std::to_string(kMaxExecutionDetail) + " bytes");
  }
  return Ok();
}

}  // namespace countersign
