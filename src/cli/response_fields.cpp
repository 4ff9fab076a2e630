#include "cli/response_fields.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "cli/key_value.hpp"

namespace countersign {
namespace {

Error NotA(const SchemaField& f, const std::string& what, const std::string& value) {
  return Error::InvalidField("response." + f.name, "--field " + f.name + " must be " + what +
                                                       ", not \"" + Echo(value) + "\"");
}

// The option `text` names, by value first and then by title.
const FieldOption* FindOption(const SchemaField& f, const std::string& text) {
  for (const auto& option : f.options) {
    if (option.value == text) return &option;
  }
  for (const auto& option : f.options) {
    if (option.title == text) return &option;
  }
  return nullptr;
}

std::string OptionList(const SchemaField& f) {
  std::string out;
  for (const auto& option : f.options) {
    if (!out.empty()) out += ", ";
    out += option.value;
  }
  return out;
}

Result<boost::json::value> Typed(const SchemaField& f, const std::string& text) {
  switch (f.type) {
    case FieldType::kString:
      return boost::json::value(text);
    case FieldType::kInteger: {
      errno = 0;
      char* end = nullptr;
      const long long n = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || errno != 0 || end != text.c_str() + text.size()) {
        return NotA(f, "an integer", text);
      }
      return boost::json::value(static_cast<int64_t>(n));
    }
    case FieldType::kNumber: {
      errno = 0;
      char* end = nullptr;
      const double n = std::strtod(text.c_str(), &end);
      if (text.empty() || errno != 0 || end != text.c_str() + text.size() || !std::isfinite(n)) {
        return NotA(f, "a number", text);
      }
      return boost::json::value(n);
    }
    case FieldType::kBoolean:
      if (text == "true" || text == "yes" || text == "1") return boost::json::value(true);
      if (text == "false" || text == "no" || text == "0") return boost::json::value(false);
      return NotA(f, "true or false", text);
    case FieldType::kEnum: {
      const FieldOption* option = FindOption(f, text);
      if (!option) return NotA(f, "one of " + OptionList(f), text);
      return boost::json::value(option->value);
    }
    case FieldType::kMultiSelect:
      break;  // handled by the caller, which collects the list
  }
  return NotA(f, "a list", text);
}

}  // namespace

Result<boost::json::object> ResponseFromFields(const ResponseSchema& schema,
                                               const std::vector<std::string>& fields) {
  boost::json::object out;
  for (const std::string& field : fields) {
    auto pair = SplitKeyValue(field);
    if (!pair.ok()) return std::move(pair).error();
    const auto& [name, text] = pair.value();
    const SchemaField* f = schema.FindField(name);
    if (!f) {
      std::string known;
      for (const auto& candidate : schema.fields()) {
        if (!known.empty()) known += ", ";
        known += candidate.name;
      }
      return Error::InvalidField("response." + name, "--field " + Echo(name) +
                                                         ": the request's form has no such field "
                                                         "(its fields: " +
                                                         known + ")");
    }
    if (f->type != FieldType::kMultiSelect) {
      if (out.contains(name)) {
        return Error::InvalidField("response." + name, "--field " + name + " is given twice");
      }
      auto value = Typed(*f, text);
      if (!value.ok()) return std::move(value).error();
      out[name] = std::move(value).value();
      continue;
    }
    auto& list = out[name];
    if (!list.is_array()) list = boost::json::array();
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string item = text.substr(start, comma - start);
      start = comma + 1;
      if (item.empty()) continue;
      const FieldOption* option = FindOption(*f, item);
      if (!option) return NotA(*f, "a list of " + OptionList(*f), item);
      list.get_array().emplace_back(option->value);
    }
  }
  return out;
}

}  // namespace countersign
