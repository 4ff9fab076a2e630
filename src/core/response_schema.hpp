// ResponseSchema: the form a structured answer must fill, and the check that it does.
//
// The schema is the MCP elicitation subset (requestedSchema of elicitation/create, 2025-06-18
// and 2025-11-25): a flat object whose properties are strings (minLength, maxLength, format
// email | uri | date | date-time), numbers and integers (minimum, maximum), booleans,
// single-select enums (`enum` with optional `enumNames`, or `oneOf` of {const, title}) and
// multi-select arrays (`items` with `enum` or `anyOf` of {const, title}; minItems,
// maxItems), each with an optional title, description and default, plus `required`. Nothing
// nested. Parse refuses anything else with kInvalid naming the keyword at fault
// ("response_schema.properties.age.minimum must be a number"), so a schema that is stored is
// one every form can render. Validate checks a response object against it and names the
// field at fault in Error::field ("response.age").
// Immutable after Parse; thread-safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"

namespace countersign {

enum class FieldType { kString, kNumber, kInteger, kBoolean, kEnum, kMultiSelect };

const char* FieldTypeName(FieldType type);

// A bound or a default as a person writes it ("3", "0.5", "1e+20"), not as Boost.JSON
// serialises a double ("5E-1"); valid in an HTML number input's min, max and value.
std::string FormatNumber(double n);

struct FieldOption {
  std::string value;
  std::string title;  // the value when the schema gives no title
};

struct SchemaField {
  std::string name;
  FieldType type = FieldType::kString;
  std::string title;  // the name when the schema gives no title
  std::string description;
  bool required = false;
  std::optional<int64_t> min_length, max_length;  // strings, in characters
  std::string format;                             // strings: "", email, uri, date, date-time
  std::optional<double> minimum, maximum;         // numbers and integers
  std::vector<FieldOption> options;               // enums and multi-selects
  std::optional<int64_t> min_items, max_items;    // multi-selects
  std::optional<boost::json::value> default_value;
};

class ResponseSchema {
 public:
  // Limits on what a caller may ask for, so a schema stays a form a person can fill.
  static constexpr size_t kMaxFields = 32;
  static constexpr size_t kMaxOptions = 100;
  static constexpr size_t kMaxTextBytes = 1000;  // a title, description or option
  static constexpr int64_t kMaxStringLength = 10000;

  // Reads `value` as the request's response_schema. Errors are kInvalid and name the path.
  static Result<ResponseSchema> Parse(const boost::json::value& value);

  // Ok when `response` fills the form: only known fields, every required one present, each
  // of its type and within its bounds. Otherwise kInvalid with `field` = "response.NAME".
  Status Validate(const boost::json::object& response) const;

  const std::vector<SchemaField>& fields() const { return fields_; }
  const SchemaField* FindField(std::string_view name) const;
  // The schema as the caller gave it (the form stored and shown back in reads).
  const boost::json::object& json() const { return json_; }

 private:
  std::vector<SchemaField> fields_;
  boost::json::object json_;
};

}  // namespace countersign
