#include "core/response_schema.hpp"

#include <cmath>
#include <cstdio>
#include <set>

#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

constexpr size_t kMaxSchemaBytes = 64 * 1024;
constexpr size_t kMaxNameBytes = 64;

Error Bad(const std::string& path, const std::string& why) {
  return Error::InvalidField(path, path + " " + why);
}

bool IsFieldName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Characters in UTF-8 text: bytes that do not continue a character.
int64_t CharacterCount(std::string_view text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Number(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

bool IsDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  if (!IsDigits(text.substr(0, 4)) || !IsDigits(text.substr(5, 2)) ||
      !IsDigits(text.substr(8, 2))) {
    return false;
  }
  const int year = Number(text.substr(0, 4));
  const int month = Number(text.substr(5, 2));
  const int day = Number(text.substr(8, 2));
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return !(month == 2 && day == 29 && !leap);
}

// RFC 3339: 2026-12-03T10:00:00Z, with optional fraction and a numeric offset.
bool IsDateTime(std::string_view text) {
  if (text.size() < 20 || !IsDate(text.substr(0, 10))) return false;
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return false;
  std::string_view time = text.substr(11);
  if (time.size() < 9 || time[2] != ':' || time[5] != ':') return false;
  if (!IsDigits(time.substr(0, 2)) || !IsDigits(time.substr(3, 2)) ||
      !IsDigits(time.substr(6, 2))) {
    return false;
  }
  if (Number(time.substr(0, 2)) > 23 || Number(time.substr(3, 2)) > 59 ||
      Number(time.substr(6, 2)) > 60) {
    return false;
  }
  time.remove_prefix(8);
  if (!time.empty() && time[0] == '.') {
    size_t digits = 1;
    while (digits < time.size() && time[digits] >= '0' && time[digits] <= '9') ++digits;
    if (digits == 1) return false;
    time.remove_prefix(digits);
  }
  if (time == "Z" || time == "z") return true;
  if (time.size() != 6 || (time[0] != '+' && time[0] != '-') || time[3] != ':') return false;
  return IsDigits(time.substr(1, 2)) && IsDigits(time.substr(4, 2)) &&
         Number(time.substr(1, 2)) <= 23 && Number(time.substr(4, 2)) <= 59;
}

bool IsEmail(std::string_view text) {
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= text.size()) return false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>') return false;
  }
  return text.substr(at + 1).find('.') != std::string_view::npos;
}

// An absolute URI: a scheme, a colon and something after it, no spaces.
bool IsUri(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= text.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char c = text[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!letter && (i == 0 || !other)) return false;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ') return false;
  }
  return true;
}

bool MatchesFormat(std::string_view format, std::string_view text) {
  if (format == "email") return IsEmail(text);
  if (format == "uri") return IsUri(text);
  if (format == "date") return IsDate(text);
  if (format == "date-time") return IsDateTime(text);
  return true;
}

std::optional<double> AsNumber(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

bool IsInteger(const boost::json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) &&
         std::floor(v.get_double()) == v.get_double() && std::fabs(v.get_double()) < 9.0e15;
}

// Reads the optional string `key` of `o` (at most kMaxTextBytes).
Status ReadText(const boost::json::object& o, std::string_view key, const std::string& path,
                std::string& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) return Bad(path + "." + std::string(key), "must be a string");
  if (v->get_string().size() > ResponseSchema::kMaxTextBytes) {
    return Bad(path + "." + std::string(key),
               "is longer than " + std::to_string(ResponseSchema::kMaxTextBytes) + " bytes");
  }
  out = v->get_string();
  return {};
}

Status ReadCount(const boost::json::object& o, std::string_view key, const std::string& path,
                 int64_t max, std::optional<int64_t>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!IsInteger(*v) || *AsNumber(*v) < 0 || *AsNumber(*v) > static_cast<double>(max)) {
    return Bad(path + "." + std::string(key),
               "must be an integer from 0 to " + std::to_string(max));
  }
  out = static_cast<int64_t>(*AsNumber(*v));
  return {};
}

Status ReadBound(const boost::json::object& o, std::string_view key, const std::string& path,
                 std::optional<double>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  auto n = AsNumber(*v);
  if (!n || !std::isfinite(*n)) return Bad(path + "." + std::string(key), "must be a number");
  out = *n;
  return {};
}

// `oneOf` / `anyOf`: [{"const": "a", "title": "A"}, ...].
Status ReadTitledOptions(const boost::json::value& v, const std::string& path,
                         std::vector<FieldOption>& out) {
  if (!v.is_array() || v.get_array().empty()) return Bad(path, "must be a non-empty array");
  for (size_t i = 0; i < v.get_array().size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    const auto& item = v.get_array()[i];
    if (!item.is_object()) return Bad(at, "must be an object with const and title");
    const auto* value = item.get_object().if_contains("const");
    if (!value || !value->is_string()) return Bad(at + ".const", "must be a string");
    FieldOption option{std::string(value->get_string()), ""};
    CS_RETURN_IF_ERROR(ReadText(item.get_object(), "title", at, option.title));
    out.push_back(std::move(option));
  }
  return {};
}

// `enum` with the legacy `enumNames` beside it.
Status ReadEnum(const boost::json::object& o, const std::string& path,
                std::vector<FieldOption>& out) {
  const auto& values = o.at("enum");
  if (!values.is_array() || values.get_array().empty()) {
    return Bad(path + ".enum", "must be a non-empty array of strings");
  }
  const boost::json::array* names = nullptr;
  if (const auto* n = o.if_contains("enumNames"); n && !n->is_null()) {
    if (!n->is_array() || n->get_array().size() != values.get_array().size()) {
      return Bad(path + ".enumNames", "must be an array as long as enum");
    }
    names = &n->get_array();
  }
  for (size_t i = 0; i < values.get_array().size(); ++i) {
    const auto& value = values.get_array()[i];
    if (!value.is_string()) return Bad(path + ".enum", "must be a non-empty array of strings");
    FieldOption option{std::string(value.get_string()), ""};
    if (names) {
      const auto& name = (*names)[i];
      if (!name.is_string()) return Bad(path + ".enumNames", "must be an array of strings");
      option.title = name.get_string();
    }
    out.push_back(std::move(option));
  }
  return {};
}

Status CheckOptions(std::vector<FieldOption>& options, const std::string& path) {
  if (options.size() > ResponseSchema::kMaxOptions) {
    return Bad(path, "has more than " + std::to_string(ResponseSchema::kMaxOptions) + " options");
  }
  std::set<std::string_view> seen;
  for (auto& option : options) {
    if (option.value.empty() || option.value.size() > ResponseSchema::kMaxTextBytes) {
      return Bad(path, "has an empty or overlong option");
    }
    if (!seen.insert(option.value).second) {
      return Bad(path, "lists \"" + Echo(option.value) + "\" twice");
    }
    if (option.title.empty()) option.title = option.value;
  }
  return {};
}

Result<std::vector<FieldOption>> ReadChoiceOptions(const boost::json::object& o,
                                                   const std::string& path) {
  std::vector<FieldOption> options;
  if (o.contains("enum")) {
    CS_RETURN_IF_ERROR(ReadEnum(o, path, options));
  } else if (const auto* one_of = o.if_contains("oneOf")) {
    CS_RETURN_IF_ERROR(ReadTitledOptions(*one_of, path + ".oneOf", options));
  } else if (const auto* any_of = o.if_contains("anyOf")) {
    CS_RETURN_IF_ERROR(ReadTitledOptions(*any_of, path + ".anyOf", options));
  }
  CS_RETURN_IF_ERROR(CheckOptions(options, path));
  return options;
}

Status CheckValue(const SchemaField& f, const boost::json::value& v, const std::string& path);

Result<SchemaField> ReadField(const std::string& name, const boost::json::value& value,
                              const std::string& path) {
  if (!value.is_object()) return Bad(path, "must be an object");
  const auto& o = value.get_object();
  SchemaField f;
  f.name = name;
  CS_RETURN_IF_ERROR(ReadText(o, "title", path, f.title));
  CS_RETURN_IF_ERROR(ReadText(o, "description", path, f.description));
  if (f.title.empty()) f.title = name;
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string()) {
    return Bad(path + ".type", "must be string, number, integer, boolean or array");
  }
  const std::string_view t = type->get_string();
  if (t == "string") {
    f.type = FieldType::kString;
    if (o.contains("enum") || o.contains("oneOf") || o.contains("anyOf")) {
      f.type = FieldType::kEnum;
      auto options = ReadChoiceOptions(o, path);
      if (!options.ok()) return std::move(options).error();
      f.options = std::move(options).value();
      if (f.options.empty()) return Bad(path, "must list its options");
    } else {
      CS_RETURN_IF_ERROR(
          ReadCount(o, "minLength", path, ResponseSchema::kMaxStringLength, f.min_length));
      CS_RETURN_IF_ERROR(
          ReadCount(o, "maxLength", path, ResponseSchema::kMaxStringLength, f.max_length));
      if (f.min_length && f.max_length && *f.min_length > *f.max_length) {
        return Bad(path + ".minLength", "is more than maxLength");
      }
      if (const auto* format = o.if_contains("format"); format && !format->is_null()) {
        if (!format->is_string() ||
            (format->get_string() != "email" && format->get_string() != "uri" &&
             format->get_string() != "date" && format->get_string() != "date-time")) {
          return Bad(path + ".format", "must be email, uri, date or date-time");
        }
        f.format = format->get_string();
      }
    }
  } else if (t == "number" || t == "integer") {
    f.type = t == "number" ? FieldType::kNumber : FieldType::kInteger;
    CS_RETURN_IF_ERROR(ReadBound(o, "minimum", path, f.minimum));
    CS_RETURN_IF_ERROR(ReadBound(o, "maximum", path, f.maximum));
    if (f.minimum && f.maximum && *f.minimum > *f.maximum) {
      return Bad(path + ".minimum", "is more than maximum");
    }
  } else if (t == "boolean") {
    f.type = FieldType::kBoolean;
  } else if (t == "array") {
    f.type = FieldType::kMultiSelect;
    const auto* items = o.if_contains("items");
    if (!items || !items->is_object()) {
      return Bad(path + ".items", "must be an object listing the options (enum or anyOf)");
    }
    auto options = ReadChoiceOptions(items->get_object(), path + ".items");
    if (!options.ok()) return std::move(options).error();
    f.options = std::move(options).value();
    if (f.options.empty()) return Bad(path + ".items", "must list its options (enum or anyOf)");
    const int64_t n = static_cast<int64_t>(f.options.size());
    CS_RETURN_IF_ERROR(ReadCount(o, "minItems", path, n, f.min_items));
    CS_RETURN_IF_ERROR(ReadCount(o, "maxItems", path, n, f.max_items));
    if (f.min_items && f.max_items && *f.min_items > *f.max_items) {
      return Bad(path + ".minItems", "is more than maxItems");
    }
  } else {
    return Bad(path + ".type", "must be string, number, integer, boolean or array");
  }
  if (const auto* d = o.if_contains("default"); d && !d->is_null()) {
    auto checked = CheckValue(f, *d, path + ".default");
    if (!checked.ok()) return Bad(path + ".default", "does not fit the field");
    f.default_value = *d;
  }
  return f;
}

Status CheckValue(const SchemaField& f, const boost::json::value& v, const std::string& path) {
  switch (f.type) {
    case FieldType::kString: {
      if (!v.is_string()) return Bad(path, "must be a string");
      const int64_t n = CharacterCount(v.get_string());
      if (f.min_length && n < *f.min_length) {
        return Bad(path, "must be at least " + std::to_string(*f.min_length) + " characters");
      }
      const int64_t max = f.max_length.value_or(ResponseSchema::kMaxStringLength);
      if (n > max) return Bad(path, "must be at most " + std::to_string(max) + " characters");
      if (!MatchesFormat(f.format, v.get_string())) {
        return Bad(path, "must be a valid " + f.format);
      }
      return {};
    }
    case FieldType::kNumber:
    case FieldType::kInteger: {
      auto n = AsNumber(v);
      if (!n || !std::isfinite(*n)) return Bad(path, "must be a number");
      if (f.type == FieldType::kInteger && !IsInteger(v)) return Bad(path, "must be an integer");
      if (f.minimum && *n < *f.minimum) {
        return Bad(path, "must be at least " + FormatNumber(*f.minimum));
      }
      if (f.maximum && *n > *f.maximum) {
        return Bad(path, "must be at most " + FormatNumber(*f.maximum));
      }
      return {};
    }
    case FieldType::kBoolean:
      if (!v.is_bool()) return Bad(path, "must be true or false");
      return {};
    case FieldType::kEnum: {
      if (!v.is_string()) return Bad(path, "must be one of its options");
      for (const auto& option : f.options) {
        if (option.value == v.get_string()) return {};
      }
      return Bad(path, "must be one of its options, not \"" + Echo(v.get_string()) + "\"");
    }
    case FieldType::kMultiSelect: {
      if (!v.is_array()) return Bad(path, "must be an array of its options");
      std::set<std::string_view> seen;
      for (const auto& item : v.get_array()) {
        if (!item.is_string()) return Bad(path, "must be an array of its options");
        bool known = false;
        for (const auto& option : f.options) known = known || option.value == item.get_string();
        if (!known) {
          return Bad(path,
                     "must be an array of its options, not \"" + Echo(item.get_string()) + "\"");
        }
        if (!seen.insert(item.get_string()).second) {
          return Bad(path, "lists \"" + Echo(item.get_string()) + "\" twice");
        }
      }
      const auto n = static_cast<int64_t>(v.get_array().size());
      if (f.min_items && n < *f.min_items) {
        return Bad(path, "must have at least " + std::to_string(*f.min_items) + " items");
      }
      if (f.max_items && n > *f.max_items) {
        return Bad(path, "must have at most " + std::to_string(*f.max_items) + " items");
      }
      return {};
    }
  }
  return {};
}

}  // namespace

std::string FormatNumber(double n) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", n);
  return text;
}

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "number";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kMultiSelect:
      return "multi-select";
  }
  return "string";
}

Result<ResponseSchema> ResponseSchema::Parse(const boost::json::value& value) {
  const std::string path = "response_schema";
  if (!value.is_object()) return Bad(path, "must be an object");
  const auto& o = value.get_object();
  if (boost::json::serialize(o).size() > kMaxSchemaBytes) {
    return Bad(path, "is larger than " + std::to_string(kMaxSchemaBytes / 1024) + " KiB");
  }
  const auto* type = o.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "object") {
    return Bad(path + ".type", "must be \"object\"");
  }
  const auto* properties = o.if_contains("properties");
  if (!properties || !properties->is_object() || properties->get_object().empty()) {
    return Bad(path + ".properties", "must be an object naming at least one field");
  }
  if (properties->get_object().size() > kMaxFields) {
    return Bad(path + ".properties", "has more than " + std::to_string(kMaxFields) + " fields");
  }
  ResponseSchema schema;
  for (const auto& [key, property] : properties->get_object()) {
    const std::string name(key);
    if (!IsFieldName(name)) {
      return Bad(path + ".properties",
                 "names a field \"" + Echo(name) + "\"; field names are 1-64 of A-Z a-z 0-9 _ - .");
    }
    auto field = ReadField(name, property, path + ".properties." + name);
    if (!field.ok()) return std::move(field).error();
    schema.fields_.push_back(std::move(field).value());
  }
  if (const auto* required = o.if_contains("required"); required && !required->is_null()) {
    if (!required->is_array()) return Bad(path + ".required", "must be an array of field names");
    for (const auto& name : required->get_array()) {
      if (!name.is_string()) return Bad(path + ".required", "must be an array of field names");
      SchemaField* field = nullptr;
      for (auto& f : schema.fields_) {
        if (f.name == name.get_string()) field = &f;
      }
      if (!field) {
        return Bad(path + ".required",
                   "names \"" + Echo(name.get_string()) + "\", which is not a property");
      }
      field->required = true;
    }
  }
  schema.json_ = o;
  return schema;
}

const SchemaField* ResponseSchema::FindField(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status ResponseSchema::Validate(const boost::json::object& response) const {
  for (const auto& [key, value] : response) {
    if (!FindField(key)) {
      return Bad("response." + Echo(key), "is not a field of this request's response_schema");
    }
  }
  for (const auto& f : fields_) {
    const auto* v = response.if_contains(f.name);
    if (!v) {
      if (f.required) return Bad("response." + f.name, "is required");
      continue;
    }
    if (v->is_null()) {
      // No field takes null: an unanswered optional field is left out.
      return Bad("response." + f.name, f.required ? "is required" : "must be left out, not null");
    }
    CS_RETURN_IF_ERROR(CheckValue(f, *v, "response." + f.name));
  }
  return {};
}

}  // namespace countersign
