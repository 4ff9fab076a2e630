// Canonical JSON: the one byte sequence a JSON value hashes as.
//
// Object keys sorted by their UTF-8 bytes, no insignificant whitespace, strings escaped as
// Boost.JSON escapes them, numbers as Boost.JSON prints them. Used for the audit chain, the
// idempotency body hash and the arguments hash. Pure function; thread-safe.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace countersign {

std::string CanonicalJson(const boost::json::value& value);

}  // namespace countersign
