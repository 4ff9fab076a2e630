#include "core/canonical_json.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

#include <boost/json/serialize.hpp>

namespace countersign {
namespace {

template <typename Integer>
void AppendInteger(Integer n, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// Whether any of the eight bytes of `word` must be escaped: below 0x20, '"' or '\\'. The
// classic bit tests, exact for these values (no false answer either way).
bool AnyNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = kOnes * 0x80;
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  return (((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) |
          ((backslash - kOnes) & ~backslash)) &
         kHighs;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t clean = 0;  // start of the run of bytes that need no escape
  size_t i = 0;
  // Most text needs no escape: skip it eight bytes at a time (audit verification writes
  // millions of these), then look at single bytes from the first word that needs one.
  for (uint64_t word; i + 8 <= text.size(); i += 8) {
    std::memcpy(&word, text.data() + i, 8);
    if (AnyNeedsEscape(word)) break;
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + clean, i - clean);
    clean = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\t':
        out.push_back('t');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\r':
        out.push_back('r');
        break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(text.data() + clean, text.size() - clean);
  out.push_back('"');
}

void AppendCanonicalJson(const boost::json::value& v, std::string& out) {
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
        AppendJsonString(members[i]->key(), out);
        out.push_back(':');
        AppendCanonicalJson(members[i]->value(), out);
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
        AppendCanonicalJson(item, out);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::string:
      AppendJsonString(v.get_string(), out);
      return;
    case boost::json::kind::int64:
      AppendInteger(v.get_int64(), out);
      return;
    case boost::json::kind::uint64:
      AppendInteger(v.get_uint64(), out);
      return;
    case boost::json::kind::bool_:
      out.append(v.get_bool() ? "true" : "false");
      return;
    case boost::json::kind::null:
      out.append("null");
      return;
    case boost::json::kind::double_:
      out += boost::json::serialize(v);
      return;
  }
}

std::string CanonicalJson(const boost::json::value& value) {
  std::string out;
  AppendCanonicalJson(value, out);
  return out;
}

}  // namespace countersign
