// FieldReader: reads the optional typed members of a JSON object from a request body, naming
// the field in every error (kMalformed: a wrong type is the caller's mistake, 400). An absent
// or null member leaves the output as it was. Holds a reference to the object it reads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/request_json.hpp"
#include "core/result.hpp"

namespace countersign {

// Whether `d` is a whole number within int64's range: casting any other double to int64 is
// undefined (1e19 is a whole number, but not an int64).
bool IsWholeInt64(double d);

// Reads optional typed members, naming the field in every error.
class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& o) : o_(o) {}

  Status String(const char* name, std::string& out) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) return Ok();
    if (!v->is_string()) return Error::Malformed(std::string(name) + " must be a string");
    out = v->get_string();
    return Ok();
  }
  Status Object(const char* name, boost::json::object& out) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) return Ok();
    if (!v->is_object()) return Error::Malformed(std::string(name) + " must be an object");
    out = v->get_object();
    return Ok();
  }
  Status OptionalObject(const char* name, std::optional<boost::json::object>& out) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) return Ok();
    if (!v->is_object()) return Error::Malformed(std::string(name) + " must be an object");
    out = v->get_object();
    return Ok();
  }
  Status Integer(const char* name, std::optional<int64_t>& out) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) return Ok();
    if (v->is_int64()) {
      out = v->get_int64();
    } else if (v->is_uint64()) {
      out = INT64_MAX;  // far out of every range; the gateway reports it as such
    } else if (v->is_double() && IsWholeInt64(v->get_double())) {
      out = static_cast<int64_t>(v->get_double());
    } else {
      return Error::Malformed(std::string(name) + " must be an integer");
    }
    return Ok();
  }
  Status Strings(const char* name, std::vector<std::string>& out) {
    const auto* v = o_.if_contains(name);
    if (!v || v->is_null()) return Ok();
    auto parsed = StringsFromJson(*v, name);
    if (!parsed.ok()) return std::move(parsed).error();
    out = std::move(parsed).value();
    return Ok();
  }

 private:
  const boost::json::object& o_;
};

}  // namespace countersign
