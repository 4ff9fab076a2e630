// ResponseFields: `--field NAME=VALUE` arguments read as a structured answer, typed by the
// request's response_schema (core/response_schema.hpp).
//
// A string field takes VALUE as it is; a number or integer parses it; a boolean takes
// true/false/yes/no/1/0; a single choice takes an option's value (or its title); a
// multi-select takes a comma-separated list, or the field given more than once. Unknown
// fields and values that are not of their type are Error::Invalid naming the field; whether
// the whole response is complete is the server's to say. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/response_schema.hpp"
#include "core/result.hpp"

namespace countersign {

Result<boost::json::object> ResponseFromFields(const ResponseSchema& schema,
                                               const std::vector<std::string>& fields);

}  // namespace countersign
