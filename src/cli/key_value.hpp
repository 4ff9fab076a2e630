// KEY=VALUE command-line arguments (`--arg`, `--detail`) and JSON given on the command line.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace countersign {

// Splits at the first '='. Error::Invalid when there is none or the key is empty.
Result<std::pair<std::string, std::string>> SplitKeyValue(std::string_view text);

// VALUE read as JSON when it is JSON (3, true, null, {"a":1}, "quoted"), else as a string.
boost::json::value LooseJsonValue(std::string_view text);

// `text` as a JSON object; Error::Invalid saying what is wrong otherwise.
Result<boost::json::object> ParseJsonObject(std::string_view text);

}  // namespace countersign
