#include "policy/glob.hpp"

namespace countersign {

// Greedy matching with one backtrack point (the last '*'): linear in practice and never
// exponential, whatever the pattern.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  constexpr size_t kNone = std::string_view::npos;
  size_t p = 0;
  size_t t = 0;
  size_t star = kNone;  // position of the last '*' seen in pattern
  size_t resume = 0;    // where in text that '*' would stop matching
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != kNone) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace countersign
