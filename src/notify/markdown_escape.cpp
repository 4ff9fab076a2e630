#include "notify/markdown_escape.hpp"

namespace countersign {
namespace {

bool OpensInline(char c) {
  return c == '\\' || c == '*' || c == '_' || c == '`' || c == '~' || c == '[' || c == ']' ||
         c == '<' || c == '>';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string EscapeCommonMark(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  bool line_start = true;  // nothing but spaces since the line began
  bool number = false;     // the line so far is spaces and then digits
  for (char c : text) {
    const bool list_number_end = number && (c == '.' || c == ')');
    const bool block_marker = line_start && (c == '#' || c == '-' || c == '+');
    if (OpensInline(c) || block_marker || list_number_end) out += '\\';
    out += c;
    if (c == '\n') {
      line_start = true;
      number = false;
    } else if (c == ' ' && line_start) {
      // still at the start
    } else {
      number = (line_start || number) && IsDigit(c);
      line_start = false;
    }
  }
  return out;
}

}  // namespace countersign
