// PrettyJson: JSON laid out for people, two spaces per level, keys in their stored order.
// Pure function; thread-safe.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace countersign {

std::string PrettyJson(const boost::json::value& value);

}  // namespace countersign
