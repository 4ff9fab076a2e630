// Fuzzes GlobMatch (policy/glob.hpp), which every policy match, approver entry and high-risk
// pattern goes through, against a plain dynamic-programming matcher: any disagreement traps.
// The input is the pattern, a NUL byte, then the text (both capped, so the reference stays
// cheap). Also runs the built-in PolicySet on the text as an action name.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "policy/glob.hpp"
#include "policy/policy_set.hpp"

namespace {

// '*' any run, '?' one byte, anything else itself: O(pattern × text).
bool ReferenceMatch(std::string_view pattern, std::string_view text) {
  std::vector<char> row(text.size() + 1, 0);
  row[0] = 1;
  for (const char p : pattern) {
    std::vector<char> next(text.size() + 1, 0);
    next[0] = p == '*' && row[0];
    for (size_t t = 1; t <= text.size(); ++t) {
      if (p == '*') {
        next[t] = row[t] || next[t - 1];
      } else {
        next[t] = row[t - 1] && (p == '?' || p == text[t - 1]);
      }
    }
    row.swap(next);
  }
  return row[text.size()];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const PolicySet policies;
  if (size > 4096) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view pattern = input.substr(0, nul);
  const std::string_view text =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  if (GlobMatch(pattern, text) != ReferenceMatch(pattern, text)) __builtin_trap();
  policies.Evaluate({text, "agent", "default", "high"});
  policies.HighRiskPattern(text);
  return 0;
}
