#include "engine/field_rules.hpp"

namespace countersign {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool IsValidAction(std::string_view action) {
  if (action.empty() || action.size() > 128) return false;
  for (char c : action) {
    const bool ok = IsAlnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidChoiceId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!IsAlnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool HasControlChars(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace countersign
