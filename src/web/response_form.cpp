#include "web/response_form.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <boost/json/serialize.hpp>

#include "core/time_format.hpp"

namespace countersign {
namespace {

// Controls are named by the field's position, not its name: names may hold '.' and '-', so
// "r.a.0" (option 0 of multi-select "a") could otherwise also be field "a.0".
std::string ControlName(size_t field) { return "r." + std::to_string(field); }

std::string OptionName(size_t field, size_t option) {
  return ControlName(field) + "." + std::to_string(option);
}

std::string ControlId(size_t field) { return "r-" + std::to_string(field); }

// An RFC 3339 date-time as a datetime-local input shows it: in UTC, to the second
// ("2026-12-03T08:00:00" for 2026-12-03T10:00:00+02:00), so that posting the form untouched
// records the same instant. Text that is not a date-time is shown as it is.
std::string UtcInputValue(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char sep = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour,
                  &minute, &second, &used) != 7) {
    return text;
  }
  std::string_view rest = std::string_view(text).substr(static_cast<size_t>(used));
  while (!rest.empty() && (rest[0] == '.' || (rest[0] >= '0' && rest[0] <= '9'))) {
    rest.remove_prefix(1);  // a fraction of a second, below what the input shows
  }
  int offset_minutes = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-')) {
    const int sign = rest[0] == '+' ? 1 : -1;
    offset_minutes = sign * (((rest[1] - '0') * 10 + (rest[2] - '0')) * 60 + (rest[4] - '0') * 10 +
                             (rest[5] - '0'));
  } else if (rest != "Z" && rest != "z") {
    return text;
  }
  using namespace std::chrono;
  const sys_seconds at = sys_days(year_month_day(std::chrono::year(year),
                                                 std::chrono::month(static_cast<unsigned>(month)),
                                                 std::chrono::day(static_cast<unsigned>(day)))) +
                         hours(hour) + minutes(minute - offset_minutes) +
                         seconds(std::min(second, 59));
  const std::string utc = FormatTime(at);  // 2026-12-03T08:00:00.000Z
  return utc.substr(0, 19);
}

std::string DefaultText(const SchemaField& f) {
  if (!f.default_value) return "";
  const auto& v = *f.default_value;
  if (v.is_string()) {
    std::string text(v.get_string());
    if (f.format == "date-time") return UtcInputValue(text);
    return text;
  }
  if (v.is_int64() || v.is_uint64()) return boost::json::serialize(v);
  if (v.is_double()) return FormatNumber(v.get_double());
  return "";
}

bool IsDefaultOption(const SchemaField& f, const std::string& value) {
  if (!f.default_value) return false;
  const auto& v = *f.default_value;
  if (v.is_string()) return v.get_string() == value;
  if (!v.is_array()) return false;
  for (const auto& item : v.get_array()) {
    if (item.is_string() && item.get_string() == value) return true;
  }
  return false;
}

const char* InputType(const SchemaField& f) {
  if (f.type == FieldType::kNumber || f.type == FieldType::kInteger) return "number";
  if (f.format == "email") return "email";
  if (f.format == "uri") return "url";
  if (f.format == "date") return "date";
  if (f.format == "date-time") return "datetime-local";
  return "text";
}

Error NotA(const SchemaField& f, const std::string& what) {
  return Error::InvalidField("response." + f.name, "response." + f.name + " must be " + what);
}

// A datetime-local value ("2026-12-03T10:00" or with seconds) as RFC 3339 in UTC; anything
// else is returned as typed, for the schema to judge.
std::string AsDateTime(const std::string& text) {
  if (text.size() == 16 && text[10] == 'T') return text + ":00Z";
  if (text.size() == 19 && text[10] == 'T') return text + "Z";
  return text;
}

}  // namespace

Result<ResponseForm> ResponseForm::Load() {
  auto field = LoadEmbeddedTemplate("response_field.html");
  if (!field.ok()) return std::move(field).error();
  auto option = LoadEmbeddedTemplate("response_option.html");
  if (!option.ok()) return std::move(option).error();
  return ResponseForm(std::move(field).value(), std::move(option).value());
}

SafeHtml ResponseForm::Render(const ResponseSchema& schema) const {
  SafeHtml out;
  for (size_t index = 0; index < schema.fields().size(); ++index) {
    const SchemaField& f = schema.fields()[index];
    PageTemplate::Values v;
    v.Text("id", ControlId(index))
        .Text("name", ControlName(index))
        .Text("title", f.title)
        .Text("description", f.description)
        .Flag("required", f.required);
    switch (f.type) {
      case FieldType::kString:
      case FieldType::kNumber:
      case FieldType::kInteger: {
        const bool long_text = f.type == FieldType::kString && f.format.empty() &&
                               f.max_length.value_or(ResponseSchema::kMaxStringLength) > 200;
        v.Flag("single", true)
            .Flag(long_text ? "textarea" : "input", true)
            .Text("input_type", InputType(f))
            .Text("value", DefaultText(f));
        if (f.type == FieldType::kInteger || f.format == "date-time") v.Text("step", "1");
        v.Flag("utc", f.format == "date-time");
        if (f.type == FieldType::kNumber) v.Text("step", "any");
        if (f.minimum) v.Text("minimum", FormatNumber(*f.minimum));
        if (f.maximum) v.Text("maximum", FormatNumber(*f.maximum));
        if (f.min_length) v.Text("min_length", std::to_string(*f.min_length));
        if (f.max_length) v.Text("max_length", std::to_string(*f.max_length));
        break;
      }
      case FieldType::kBoolean:
        v.Flag("checkbox", true)
            .Flag("checked",
                  f.default_value && f.default_value->is_bool() && f.default_value->get_bool());
        break;
      case FieldType::kEnum:
      case FieldType::kMultiSelect: {
        const bool select = f.type == FieldType::kEnum;
        SafeHtml options;
        for (size_t i = 0; i < f.options.size(); ++i) {
          PageTemplate::Values o;
          o.Flag("select", select)
              .Text("id", ControlId(index) + "-" + std::to_string(i))
              .Text("name", OptionName(index, i))
              .Text("value", f.options[i].value)
              .Text("title", f.options[i].title)
              .Flag("chosen", IsDefaultOption(f, f.options[i].value));
          options.Append(option_.Render(o));
        }
        v.Flag("single", select).Flag("select", select).Flag("multi", !select);
        // A required choice without a default starts on a placeholder the browser will not
        // submit, so nobody approves with whatever option happened to be first.
        v.Flag("choose", select && f.required && !f.default_value);
        v.Html("options", std::move(options));
        std::string bounds;
        if (f.min_items && f.max_items) {
          bounds = "choose " + std::to_string(*f.min_items) + " to " + std::to_string(*f.max_items);
        } else if (f.min_items) {
          bounds = "choose at least " + std::to_string(*f.min_items);
        } else if (f.max_items) {
          bounds = "choose at most " + std::to_string(*f.max_items);
        }
        v.Text("bounds", bounds);
        break;
      }
    }
    out.Append(field_.Render(v));
  }
  return out;
}

Result<boost::json::object> ResponseForm::Read(const ResponseSchema& schema, const Fields& form) {
  boost::json::object out;
  for (size_t index = 0; index < schema.fields().size(); ++index) {
    const SchemaField& f = schema.fields()[index];
    const auto it = form.find(ControlName(index));
    const std::string text = it == form.end() ? "" : it->second;
    switch (f.type) {
      case FieldType::kString:
        if (!text.empty()) out[f.name] = f.format == "date-time" ? AsDateTime(text) : text;
        break;
      case FieldType::kEnum:
        if (!text.empty()) out[f.name] = text;
        break;
      case FieldType::kInteger: {
        if (text.empty()) break;
        errno = 0;
        char* end = nullptr;
        const long long n = std::strtoll(text.c_str(), &end, 10);
        if (errno != 0 || end != text.c_str() + text.size()) return NotA(f, "an integer");
        out[f.name] = static_cast<int64_t>(n);
        break;
      }
      case FieldType::kNumber: {
        if (text.empty()) break;
        errno = 0;
        char* end = nullptr;
        const double n = std::strtod(text.c_str(), &end);
        if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(n)) {
          return NotA(f, "a number");
        }
        out[f.name] = n;
        break;
      }
      case FieldType::kBoolean:
        if (!text.empty() && text != "true") return NotA(f, "true or false");
        out[f.name] = text == "true";
        break;
      case FieldType::kMultiSelect: {
        boost::json::array chosen;
        for (size_t i = 0; i < f.options.size(); ++i) {
          const auto option = form.find(OptionName(index, i));
          if (option == form.end()) continue;
          if (option->second != f.options[i].value) return NotA(f, "a list of its options");
          chosen.emplace_back(option->second);
        }
        // An optional multi-select left empty is no answer; a required one is an empty list.
        if (!chosen.empty() || f.required) out[f.name] = std::move(chosen);
        break;
      }
    }
  }
  return out;
}

}  // namespace countersign
