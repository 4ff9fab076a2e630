#include "core/canonical_json.hpp"

#include <algorithm>
#include <vector>

#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

void Append(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(obj.size());
      for (const auto& kv : obj) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out.push_back(',');
        out += boost::json::serialize(boost::json::string_view(members[i]->key()));
        out.push_back(':');
        Append(members[i]->value(), out);
      }
      out.push_back('}');
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Append(item, out);
      }
      out.push_back(']');
      return;
    }
    default:
      out += boost::json::serialize(v);
  }
}

}  // namespace

std::string CanonicalJson(const boost::json::value& value) {
  std::string out;
  Append(value, out);
  return out;
}

}  // namespace countersign
