#include "web/pretty_json.hpp"

#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

void Write(const boost::json::value& value, int depth, std::string& out) {
  const auto indent = [&](int level) { out.append(static_cast<size_t>(level) * 2, ' '); };
  if (const auto* object = value.if_object()) {
    if (object->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : *object) {
      if (!first) out += ",\n";
      first = false;
      indent(depth + 1);
      out += boost::json::serialize(boost::json::value(member.key()));
      out += ": ";
      Write(member.value(), depth + 1, out);
    }
    out += "\n";
    indent(depth);
    out += "}";
    return;
  }
  if (const auto* array = value.if_array()) {
    if (array->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& item : *array) {
      if (!first) out += ",\n";
      first = false;
      indent(depth + 1);
      Write(item, depth + 1, out);
    }
    out += "\n";
    indent(depth);
    out += "]";
    return;
  }
  out += boost::json::serialize(value);
}

}  // namespace

std::string PrettyJson(const boost::json::value& value) {
  std::string out;
  Write(value, 0, out);
  return out;
}

}  // namespace countersign
